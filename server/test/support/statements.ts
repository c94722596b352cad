import { AsyncLocalStorage } from "node:async_hooks";

/** Counts the statements an app sends to its database (TestAppOptions.onStatement), per request. */
export interface StatementCounter {
  /** Pass to appOn / buildTestApp as `onStatement`. */
  onStatement(sql: string): void;
  /**
   * The SQL texts of the statements `work` caused, in order, including writes left to finish after
   * its answer (waited for briefly). Statements of background jobs (purges, the mail outbox) run in
   * contexts of their own and are not counted.
   */
  during(work: () => Promise<unknown>): Promise<string[]>;
}

export function statementCounter(): StatementCounter {
  const current = new AsyncLocalStorage<string[]>();
  return {
    onStatement(sql) {
      current.getStore()?.push(sql);
    },
    async during(work) {
      const statements: string[] = [];
      await current.run(statements, async () => {
        await work();
        await new Promise((resolve) => setTimeout(resolve, 30));
      });
      return statements;
    },
  };
}
