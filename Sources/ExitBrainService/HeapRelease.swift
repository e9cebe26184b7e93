import CMalloc

/// Gives the heap's free memory back to the system once a burst is over. glibc keeps what a
/// burst freed in its arenas (it returns only the top of a heap by itself), so without this a
/// service's RSS stays at its busiest moment's mark. A trim holds each arena's lock while it
/// walks it (1–9 ms with 10 000 plans held, the execution service's largest book here), so it
/// runs only when at least `threshold` bytes sit free: after a burst, not in a steady state.
/// Where the C library is not glibc, nothing is free and nothing is done.
public enum HeapRelease {
    /// Bytes the heap's arenas hold free (glibc's `mallinfo2().fordblks`).
    public static var freeBytes: Int { Int(eb_heap_free_bytes()) }

    /// Trims the heap when at least `threshold` bytes sit free; true when memory went back.
    @discardableResult
    public static func releaseIfWorthIt(threshold: Int = 16 << 20) -> Bool {
        guard freeBytes >= threshold else { return false }
        return eb_heap_trim() == 1
    }
}
