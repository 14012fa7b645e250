/** What a start-up opened, undone last opened first: on close, or when a later step fails. */
export class Cleanups {
  private readonly steps: (() => Promise<void>)[] = [];

  push(step: () => Promise<void>): void {
    this.steps.push(step);
  }

  /** Undoes everything pushed so far, once. */
  readonly run = async (): Promise<void> => {
    for (const step of this.steps.splice(0).reverse()) await step();
  };

  /** Runs `open`; when it throws, undoes what it had opened, then rethrows. */
  async opening<T>(open: () => Promise<T>): Promise<T> {
    try {
      return await open();
    } catch (error) {
      await this.run();
      throw error;
    }
  }
}

/** Writes an error with its stack, after `prefix`, through `log`. */
export function errorLogger(prefix: string, log: (line: string) => void): (error: unknown) => void {
  return (error) => log(`${prefix}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
}
