// What the dashboard shell needs from a view (admin or user).

import type { BursarEvent } from './live';

export interface View {
  readonly el: HTMLElement;
  readonly title: string;
  // The first load: cards, charts and the table's first page.
  load(): Promise<void>;
  // After a live change: cards, charts and the table's first page (other pages stay put).
  refresh(): Promise<void>;
  // Polling: a cheap fingerprint of the data; a new value means refresh. Rejects when the server
  // cannot be reached.
  signal(): Promise<string>;
  // Whether an event concerns this view.
  wants(event: BursarEvent): boolean;
  destroy(): void;
}
