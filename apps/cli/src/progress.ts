/**
 * A progress line for long loops: redrawn in place on a terminal (at most ~10 times a
 * second), silent otherwise (plain per-epoch lines are printed by the caller).
 */
export function createProgress(write: (s: string) => void, isTTY: boolean): { update(text: string): void; done(): void } {
  let last = 0;
  let shown = false;
  return {
    update(text) {
      if (!isTTY) return;
      const now = Date.now();
      if (now - last < 100) return;
      last = now;
      write(`\r\x1b[2K${text}`);
      shown = true;
    },
    done() {
      if (shown) write("\r\x1b[2K");
      shown = false;
    },
  };
}
