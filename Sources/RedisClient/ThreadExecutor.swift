import Foundation
import Synchronization

/// A serial executor that runs its jobs on one dedicated thread, so an actor using it may
/// block in socket I/O without taking a thread from the Swift concurrency pool.
final class ThreadExecutor: SerialExecutor, TaskExecutor, @unchecked Sendable {
    private let condition = NSCondition()
    private enum Work {
        case job(UnownedJob)
        case closure(@Sendable () -> Void)
    }

    private var jobs: [Work] = []
    private var stopping = false
    /// The thread's id, once it runs.
    private let runner = Mutex<pthread_t?>(nil)

    /// Starts the thread.
    init(name: String) {
        let thread = Thread { [self] in run() }
        thread.name = name
        thread.stackSize = 1 << 20
        thread.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        add(.job(UnownedJob(job)))
    }

    /// Runs `body` on the thread after the jobs queued so far. It runs between jobs, so it has
    /// the executor to itself: an actor on this executor may `assumeIsolated` in it.
    func later(_ body: @escaping @Sendable () -> Void) {
        add(.closure(body))
    }

    private func add(_ work: Work) {
        condition.lock()
        jobs.append(work)
        condition.signal()
        condition.unlock()
    }

    /// On the executor's own thread, code is isolated to it (a closure given to ``later(_:)``).
    func checkIsolated() {
        let current = pthread_self()
        precondition(runner.withLock { $0.map { pthread_equal($0, current) != 0 } ?? false }, "not on the executor's thread")
    }

    func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    func asUnownedTaskExecutor() -> UnownedTaskExecutor {
        UnownedTaskExecutor(ordinary: self)
    }

    /// Lets the thread finish the jobs it has and exit.
    func shutdown() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }

    private func run() {
        let me = pthread_self()
        runner.withLock { $0 = me }
        var batch: [Work] = []
        while true {
            condition.lock()
            while jobs.isEmpty && !stopping { condition.wait() }
            if jobs.isEmpty && stopping {
                condition.unlock()
                return
            }
            swap(&batch, &jobs)
            condition.unlock()
            for work in batch {
                switch work {
                case .job(let job): job.runSynchronously(isolatedTo: asUnownedSerialExecutor(), taskExecutor: asUnownedTaskExecutor())
                case .closure(let body): body()
                }
            }
            batch.removeAll(keepingCapacity: true)
        }
    }
}
