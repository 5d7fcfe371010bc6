/** The logs of a run's images: each image's lines to its own file, to the reporters, and a tail kept for messages. */
import type { ImageName } from '../core/model.js';
import type { Reporter } from './events.js';
import type { ImageLog, LogStore } from './ports.js';

/** How many of an image's last lines are kept for its failure message and summary. */
export const TAIL_LINES = 30;

export interface ImageLogs {
  /** A log function for one image (its file is opened on first use). */
  readonly line: (name: ImageName) => (text: string) => void;
  /** The image's last lines so far (empty when it logged nothing). */
  readonly tail: (name: ImageName) => readonly string[];
  /** Closes the image's file, if it has one: its final path (renamed when `failed`). */
  readonly close: (name: ImageName, failed: boolean) => Promise<string> | undefined;
}

export function imageLogs(store: LogStore, report: Reporter): ImageLogs {
  const logs = new Map<ImageName, { file: ImageLog; tail: string[] }>();
  return {
    line: (name) => (text) => {
      let log = logs.get(name);
      if (!log) {
        log = { file: store.open(name), tail: [] };
        logs.set(name, log);
      }
      log.file.write(text);
      log.tail.push(text);
      if (log.tail.length > TAIL_LINES) log.tail.shift();
      report({ type: 'log', name, line: text });
    },
    tail: (name) => logs.get(name)?.tail ?? [],
    close: (name, failed) => logs.get(name)?.file.close(failed),
  };
}
