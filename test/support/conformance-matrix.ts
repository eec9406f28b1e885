import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export type Cell = { status: 'pass' | 'fail' | 'n/a'; note?: string };

/**
 * Collects the results of the E2E conformance tests — inbound format x
 * provider x feature — and writes them as docs/conformance.md.
 */
export class ConformanceMatrix {
  private readonly cells = new Map<string, Cell>();

  constructor(
    private readonly inbound: string[],
    private readonly providers: string[],
    private readonly features: string[],
  ) {}

  set(inbound: string, provider: string, feature: string, cell: Cell): void {
    this.cells.set(`${inbound}|${provider}|${feature}`, cell);
  }

  /** Runs `check`, records pass or fail (with the error), and rethrows a failure for the test runner. */
  async record(inbound: string, provider: string, feature: string, check: () => Promise<void>): Promise<void> {
    try {
      await check();
      this.set(inbound, provider, feature, { status: 'pass' });
    } catch (error) {
      this.set(inbound, provider, feature, { status: 'fail', note: (error as Error).message.split('\n')[0] });
      throw error;
    }
  }

  write(file: string, preface: string): void {
    const lines = [preface, ''];
    const notes: string[] = [];
    for (const inbound of this.inbound) {
      lines.push(
        `## ${inbound}`,
        '',
        `| provider | ${this.features.join(' | ')} |`,
        `|---|${this.features.map(() => '---').join('|')}|`,
      );
      for (const provider of this.providers) {
        const row = this.features.map((feature) => {
          const cell = this.cells.get(`${inbound}|${provider}|${feature}`);
          if (!cell) return '—';
          const mark = cell.status === 'pass' ? '✅' : cell.status === 'fail' ? '❌' : 'n/a';
          if (!cell.note) return mark;
          if (!notes.includes(cell.note)) notes.push(cell.note);
          return `${mark} [${notes.indexOf(cell.note) + 1}]`;
        });
        lines.push(`| ${provider} | ${row.join(' | ')} |`);
      }
      lines.push('');
    }
    if (notes.length) lines.push('## Notes', '', ...notes.map((note, i) => `${i + 1}. ${note}`), '');
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, lines.join('\n'));
  }
}

export const CONFORMANCE_FILE = join(__dirname, '..', '..', 'docs', 'conformance.md');
