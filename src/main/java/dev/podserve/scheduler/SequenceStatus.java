package dev.podserve.scheduler;

/** Where a sequence is in the scheduler's life cycle. */
public enum SequenceStatus {
    /** In the waiting queue: never admitted, or preempted and owning no KV pages. */
    WAITING,
    /** Admitted: owns KV pages and is scheduled as the budget allows. */
    RUNNING,
    /** Finished or aborted; owns nothing and is never scheduled again. */
    FINISHED
}
