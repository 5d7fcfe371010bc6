/**
 * Failures as text for people: file:line:column first (editors and CI annotate them), then what
 * went wrong, then what to do.
 */
import type { ConfigProblem, Failure } from '../core/model.js';

const at = (file: string, line?: number, column?: number) =>
  `${file}${line !== undefined ? `:${line}` : ''}${line !== undefined && column !== undefined ? `:${column}` : ''}`;

export function formatProblem(p: ConfigProblem): string {
  return `${at(p.file, p.line, p.column)}: ${p.message}${p.hint ? ` — ${p.hint}` : ''}`;
}

/** One failure as one or more lines of text. */
export function formatFailure(f: Failure): string {
  switch (f.reason) {
    case 'config-invalid':
      return f.problems.map(formatProblem).join('\n');
    case 'profile-not-found':
      return `no profile named '${f.name}'${f.suggestion ? ` — ${f.suggestion}` : ''} (available: ${f.available.join(', ') || 'none'})`;
    case 'duplicate-image':
      return `two images are named '${f.name}': ${f.paths.join(' and ')} — image names come from their directory names; rename one directory`;
    case 'template-error':
      return `${at(f.file, f.line, f.column)}: template error${f.image ? ` (rendering ${f.image})` : ''}: ${f.message}`;
    case 'dockerfile-invalid':
      return `${at(f.file, f.line)}: ${f.message} (image ${f.image}; see it with 'kbuild render ${f.image}')`;
    case 'unknown-parent':
      return `${at(f.file, f.line)}: ${f.image} is built FROM '${f.ref}', which looks like an image of this family but names none${f.suggestion ? ` — ${f.suggestion}` : ''}`;
    case 'cycle':
      return [
        `images depend on each other in a cycle: ${f.path.join(' → ')} — one of these FROM lines must change${f.froms?.length ? ':' : ''}`,
        ...(f.froms ?? []).map((x) => `  ${at(x.file, x.line)}: ${x.image}: FROM ${x.ref}`),
      ].join('\n');
    case 'selection-unknown':
      return `${f.source}: '${f.pattern}' matches no image or group${f.suggestion ? ` — ${f.suggestion}` : ''}`;
    case 'plugin-invalid':
      return `${f.file}: plugin: ${f.message}`;
  }
}

/** Exit code for a failure: 2 for configuration and usage, 1 for an invalid tree or failed work. */
export function exitCodeFor(failures: readonly Failure[]): number {
  const config = failures.some((f) => {
    switch (f.reason) {
      case 'config-invalid':
      case 'profile-not-found':
      case 'selection-unknown':
      case 'plugin-invalid':
        return true;
      case 'duplicate-image':
      case 'template-error':
      case 'dockerfile-invalid':
      case 'unknown-parent':
      case 'cycle':
        return false;
    }
  });
  return config ? 2 : failures.length ? 1 : 0;
}
