// Streamed updates are gathered and applied at most once per interval, in an animation
// frame: 50 flows a second must cost a few redraws, not fifty.
import type { ExtensionMessage } from './messages';

export interface BatchClock {
    now(): number;
    /** Runs `fn` once, no sooner than `delayMs` from now. */
    schedule(fn: () => void, delayMs: number): void;
}

export class UpdateBatcher<T> {
    private pending: T[] = [];
    private scheduled = false;
    private lastFlush = Number.NEGATIVE_INFINITY;

    constructor(
        private readonly flush: (items: T[]) => void,
        private readonly clock: BatchClock,
        private readonly intervalMs: number,
    ) {}

    push(item: T): void {
        this.pending.push(item);
        if (this.scheduled) {
            return;
        }
        this.scheduled = true;
        const wait = Math.max(0, this.lastFlush + this.intervalMs - this.clock.now());
        this.clock.schedule(() => this.run(), wait);
    }

    get size(): number {
        return this.pending.length;
    }

    private run(): void {
        this.scheduled = false;
        this.lastFlush = this.clock.now();
        const items = this.pending;
        this.pending = [];
        if (items.length > 0) {
            this.flush(items);
        }
    }
}

/** A snapshot makes everything queued before it moot. */
export function coalesce(messages: ExtensionMessage[]): ExtensionMessage[] {
    let last = -1;
    messages.forEach((message, index) => {
        if (message.type === 'graph') {
            last = index;
        }
    });
    return last <= 0 ? messages : messages.slice(last);
}

/** Timers plus an animation frame, so a flush lands right before a paint. */
export const frameClock: BatchClock = {
    now: () => performance.now(),
    schedule: (fn, delayMs) => {
        setTimeout(() => requestAnimationFrame(() => fn()), delayMs);
    },
};
