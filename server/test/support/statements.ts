/** Counts the statements an app sends to its database (TestAppOptions.onStatement), per request. */
export interface StatementCounter {
  /** Pass to appOn / buildTestApp as `onStatement`. */
  onStatement(sql: string): void;
  /**
   * The SQL texts of the statements sent while `work` ran, and until the database had been quiet for
   * a moment after it (writes a request leaves to finish after its answer count too).
   */
  during(work: () => Promise<unknown>): Promise<string[]>;
}

export function statementCounter(): StatementCounter {
  let seen: string[] | null = null;
  return {
    onStatement(sql) {
      seen?.push(sql);
    },
    async during(work) {
      const statements: string[] = [];
      seen = statements;
      try {
        await work();
        let before = -1;
        while (before !== statements.length) {
          before = statements.length;
          await new Promise((resolve) => setTimeout(resolve, 30));
        }
        return statements;
      } finally {
        seen = null;
      }
    },
  };
}
