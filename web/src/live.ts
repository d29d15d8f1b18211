// Live updates: a WebSocket to /v1/stream?token=… carries one event (docs/events.md) per
// message. While the socket is not open (the server may not offer it, or the network dropped),
// the dashboard polls every 2 s instead and keeps trying the socket with exponential backoff.

export interface BursarEvent {
  event_id?: string;
  txn_id?: string;
  type?: string;
  user_id?: string | null;
  merchant_id?: string | null;
  to_user_id?: string | null;
  amount_minor?: number;
  fee_minor?: number;
  currency?: string;
  ts?: string;
}

// connecting: first attempt under way; live: socket open; polling: no socket, polls succeed;
// offline: no socket and the last poll failed.
export type LiveState = 'connecting' | 'live' | 'polling' | 'offline';

export interface LiveOptions {
  token: string;
  onEvent: (event: BursarEvent) => void;
  // Called after the socket (re)opens: events may have been missed meanwhile.
  onResync: () => void;
  // One poll: resolves true when something changed (the caller then refreshes), rejects when the
  // server cannot be reached.
  poll: () => Promise<boolean>;
  onState: (state: LiveState, detail: string) => void;
}

export const POLL_INTERVAL_MS = 2000;
const BACKOFF_MIN_MS = 1000;
const BACKOFF_MAX_MS = 30_000;

export function streamUrl(token: string, location: Location = window.location): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/v1/stream?token=${encodeURIComponent(token)}`;
}

export class LiveUpdates {
  private socket: WebSocket | null = null;
  private stopped = false;
  private attempts = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private pollTimer: ReturnType<typeof setTimeout> | null = null;
  private polling = false;
  private state: LiveState = 'connecting';

  constructor(private readonly options: LiveOptions) {}

  start(): void {
    this.setState('connecting', 'Connecting to the live stream…');
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.reconnectTimer = null;
    this.pollTimer = null;
    this.polling = false;
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.onopen = socket.onmessage = socket.onclose = socket.onerror = null;
      socket.close();
    }
  }

  private setState(state: LiveState, detail: string): void {
    this.state = state;
    this.options.onState(state, detail);
  }

  private connect(): void {
    if (this.stopped) return;
    let socket: WebSocket;
    try {
      socket = new WebSocket(streamUrl(this.options.token));
    } catch {
      this.onSocketDown();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      this.attempts = 0;
      this.stopPolling();
      this.setState('live', 'Live: updates arrive as they happen.');
      this.options.onResync();
    };
    socket.onmessage = (message: MessageEvent) => {
      if (typeof message.data !== 'string') return;
      let parsed: unknown;
      try {
        parsed = JSON.parse(message.data);
      } catch {
        return;
      }
      const events = Array.isArray(parsed) ? parsed : [parsed];
      for (const event of events) {
        if (event && typeof event === 'object') this.options.onEvent(event as BursarEvent);
      }
    };
    socket.onerror = () => {
      // onclose follows and handles it.
    };
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.onSocketDown();
    };
  }

  private onSocketDown(): void {
    if (this.stopped) return;
    this.startPolling();
    const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** this.attempts);
    this.attempts += 1;
    const jittered = delay * (0.8 + Math.random() * 0.4);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.connect();
    }, jittered);
  }

  private startPolling(): void {
    if (this.polling) return;
    this.polling = true;
    if (this.state !== 'offline') {
      this.setState('polling', 'Live stream unavailable: checking for changes every 2 s.');
    }
    this.scheduleOne(0);
  }

  private stopPolling(): void {
    this.polling = false;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.pollTimer = null;
  }

  private scheduleOne(delay: number): void {
    this.pollTimer = setTimeout(() => {
      this.pollTimer = null;
      void this.pollOnce();
    }, delay);
  }

  private async pollOnce(): Promise<void> {
    if (!this.polling || this.stopped) return;
    const started = Date.now();
    try {
      await this.options.poll();
      if (this.polling && !this.stopped) {
        this.setState('polling', 'Live stream unavailable: checking for changes every 2 s.');
      }
    } catch {
      if (this.polling && !this.stopped) {
        this.setState('offline', 'Offline: cannot reach the server. Retrying…');
      }
    }
    if (!this.polling || this.stopped) return;
    // Every 2 s from the start of the previous poll.
    this.scheduleOne(Math.max(0, POLL_INTERVAL_MS - (Date.now() - started)));
  }
}

// Runs `task` at most once per `delayMs` burst of calls: the first call schedules it, later
// calls within the window join it; calls while it runs schedule one more run afterwards.
export function coalesce(task: () => Promise<void>, delayMs: number): {
  trigger: () => void;
  cancel: () => void;
} {
  let timer: ReturnType<typeof setTimeout> | null = null;
  let running = false;
  let again = false;
  let cancelled = false;
  const run = async () => {
    timer = null;
    if (cancelled) return;
    running = true;
    try {
      await task();
    } finally {
      running = false;
    }
    if (again && !cancelled) {
      again = false;
      timer = setTimeout(run, delayMs);
    }
  };
  return {
    trigger() {
      if (cancelled) return;
      if (running) again = true;
      else if (!timer) timer = setTimeout(run, delayMs);
    },
    cancel() {
      cancelled = true;
      if (timer) clearTimeout(timer);
      timer = null;
    },
  };
}
