import ExitBrainService
import Foundation
import Support
import Testing

/// What a burst freed goes back to the system: the heap holds it free until it is trimmed.
@Suite("Heap release")
struct HeapReleaseTests {
    @Test func aBurstsFreedMemoryGoesBackAndLittleFreeMemoryIsLeftAlone() {
        // 64 MB in 4 KB blocks, written so that they are resident; every sixteenth is kept, so
        // the heap cannot shrink from its top and the rest sits free between them.
        let blocks = (0..<16_384).map { _ in
            let block = UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 16)
            block.initializeMemory(as: UInt8.self, repeating: 7, count: 4096)
            return block
        }
        for (i, block) in blocks.enumerated() where i % 16 != 0 { block.deallocate() }
        defer { for (i, block) in blocks.enumerated() where i % 16 == 0 { block.deallocate() } }

        #expect(HeapRelease.freeBytes >= 48 << 20, "the burst's blocks sit free in the heap")
        #expect(!HeapRelease.releaseIfWorthIt(threshold: Int.max), "below the threshold nothing is done")
        let before = ResidentMemory.megabytes()
        #expect(HeapRelease.releaseIfWorthIt(threshold: 32 << 20))
        let after = ResidentMemory.megabytes()
        #expect(before - after >= 24, "RSS \(before) MB before the trim, \(after) MB after")
    }
}
