/**
 * Compiles a (preprocessed) template to the JavaScript nunjucks runs, with a nunjucks compiler
 * subclass that gives Jinja2 semantics where nunjucks differs:
 * - output: undefined is an error naming the expression (`'foo.bar' is undefined`), values
 *   print like Python (`True`, `None`, `['a', 'b']`);
 * - `foo.bar` on an undefined `foo` is an error naming `foo` (Jinja2 raises there too);
 * - truthiness (`if`, `not`, `and`, `or`, inline if) is Python's: empty lists and dicts are false;
 * - `==` is structural, `+` concatenates lists, `*` repeats, `%` formats strings, `~` prints
 *   like Python;
 * - unknown filters and tests are compile errors at their position (as in Jinja2), and a
 *   built-in filter given an undefined value says which;
 * - every error is located in the template it happened in (see jinja-runtime.ts `locate`):
 *   function bodies, macros (so an error in an imported macro names the macros file, not the
 *   caller) and include/import/extends.
 * - in template overrides, a top-level `{% set %}` of a later override wins over an earlier one.
 *
 * The generated code calls `env.kbuild.*` (JinjaRuntime); `kfile` is the template key and
 * `kloc` its table of source locations.
 */
import {
  ITER_FILTER,
  LOOP_FILTER,
  SLICE_FILTER,
  STAR_FILTER,
  TUPLE_FILTER,
  JinjaParser,
} from './parser.js';
import type { Loc } from './runtime.js';
import {
  CompilerBase,
  isNode,
  lexer,
  nodes,
  transformer,
  type NjBinOp,
  type NjCompare,
  type NjFrame,
  type NjFunCall,
  type NjIf,
  type NjInlineIf,
  type NjListNode,
  type NjLookupVal,
  type NjNode,
  type NjSet,
  type NjTemplateRef,
  type NjValueNode,
} from './nunjucks-internals.js';
import { pyRepr } from './python-values.js';

export interface CompileOptions {
  hasFilter(name: string): boolean;
  hasTest(name: string): boolean;
  /** Filters that must not be given an undefined value (not `default`, `customizable`, ...). */
  isStrictFilter(name: string): boolean;
  /** Set when compiling the n-th template override (0 = the first given). */
  overrideLevel?: number;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** How an expression reads in a message: `foo.bar`, `macros.install(…)`, `x | join`. */
export function describe(node: NjNode): string {
  switch (node.typename) {
    case 'Symbol':
      return String((node as NjValueNode).value);
    case 'Literal':
      return pyRepr((node as NjValueNode).value);
    case 'LookupVal': {
      const { target, val } = node as NjLookupVal;
      const v = (val as NjValueNode).value;
      if (val.typename === 'Literal' && typeof v === 'string' && IDENTIFIER.test(v)) {
        return `${describe(target)}.${v}`;
      }
      return `${describe(target)}[${describe(val)}]`;
    }
    case 'FunCall':
      return `${describe((node as NjFunCall).name)}(…)`;
    case 'Filter': {
      const f = node as NjFunCall;
      const name = String((f.name as NjValueNode).value);
      const first = f.args.children[0];
      if (name === SLICE_FILTER && first) return `${describe(first)}[…]`;
      if (name === ITER_FILTER && first) return describe(first);
      if (name === TUPLE_FILTER) return `(${f.args.children.map(describe).join(', ')})`;
      if (name === STAR_FILTER && first) return `*${describe(first)}`;
      return first ? `${describe(first)} | ${name}` : name;
    }
    case 'Group': {
      const first = (node as NjListNode).children[0];
      return first ? `(${describe(first)})` : '()';
    }
    default:
      return 'expression';
  }
}

class JinjaCompiler extends CompilerBase {
  private readonly locs: Loc[] = [];

  constructor(
    private readonly key: string,
    private readonly options: CompileOptions,
  ) {
    super(key, true);
  }

  /** Registers a location and returns the JavaScript expression naming it. */
  private loc(node: NjNode, d: string, d2?: string): string {
    const l: Loc = { f: this.key, l: node.lineno + 1, c: node.colno + 1, d, ...(d2 ? { d2 } : {}) };
    this.locs.push(l);
    return `kloc[${this.locs.length - 1}]`;
  }

  override getCode(): string {
    return (
      `var kfile = ${JSON.stringify(this.key)};\n` +
      `var kloc = ${JSON.stringify(this.locs)};\n` +
      'var kt;\n' +
      super.getCode()
    );
  }

  // --- output and lookups -------------------------------------------------------------------

  override compileOutput(node: NjListNode, frame: NjFrame): void {
    for (const child of node.children) {
      if (child.typename === 'TemplateData') {
        if ((child as NjValueNode).value) {
          this._emit(`${this.buffer} += `);
          this.compileLiteral(child, frame);
          this._emitLine(';');
        }
      } else {
        this._emit(`${this.buffer} += env.kbuild.out(`);
        this.compile(child, frame);
        this._emitLine(`, ${this.loc(child, describe(child))});`);
      }
    }
  }

  override compileLookupVal(node: NjLookupVal, frame: NjFrame): void {
    this._emit('env.kbuild.member(');
    this._compileExpression(node.target, frame);
    this._emit(', ');
    this._compileExpression(node.val, frame);
    this._emit(`, ${this.loc(node.target, describe(node.target))})`);
  }

  // --- filters and tests --------------------------------------------------------------------

  override compileFilter(node: NjFunCall, frame: NjFrame): void {
    const name = String((node.name as NjValueNode).value);
    const args = node.args.children;
    const [first, ...rest] = args;
    if (name === TUPLE_FILTER) {
      this._emit('env.kbuild.tuple([');
      args.forEach((a, i) => {
        if (i > 0) this._emit(', ');
        this.compile(a, frame);
      });
      this._emit('])');
      return;
    }
    if (name === STAR_FILTER && first) {
      // Only ever an argument of a call: spread where JavaScript takes a list of arguments.
      this._emit('...env.kbuild.star(');
      this.compile(first, frame);
      this._emit(`, ${this.loc(first, describe(first))})`);
      return;
    }
    if (name === SLICE_FILTER || name === LOOP_FILTER || name === ITER_FILTER) {
      const helper = name === SLICE_FILTER ? 'slice' : name === LOOP_FILTER ? 'loopFilter' : 'iter';
      this._emit(`env.kbuild.${helper}(`);
      args.forEach((a, i) => {
        if (i > 0) this._emit(', ');
        this.compile(a, frame);
      });
      this._emit(`, ${this.loc(node, first ? describe(first) : '')})`);
      return;
    }
    if (!this.options.hasFilter(name)) {
      this.fail(`no filter named '${name}'`, node.name.lineno, node.name.colno);
    }
    // Record the position: errors raised inside the filter are reported here.
    this._emit(`(lineno = ${node.lineno}, colno = ${node.colno}, `);
    this._emit(`env.getFilter(${JSON.stringify(name)}).call(context`);
    if (first) {
      this._emit(', ');
      if (this.options.isStrictFilter(name)) {
        this._emit('env.kbuild.defined(');
        this.compile(first, frame);
        this._emit(`, ${this.loc(first, describe(first))})`);
      } else {
        this.compile(first, frame);
      }
    }
    for (const a of rest) {
      this._emit(', ');
      this.compile(a, frame);
    }
    this._emit('))');
  }

  override compileIs(node: NjBinOp, frame: NjFrame): void {
    const right = node.right;
    const call = isNode<NjFunCall>(right, 'FunCall') ? right : undefined;
    const nameNode = call ? call.name : right;
    const name = String((nameNode as NjValueNode).value);
    if (!this.options.hasTest(name)) {
      this.fail(`no test named '${name}'`, nameNode.lineno, nameNode.colno);
    }
    this._emit(`(lineno = ${node.lineno}, colno = ${node.colno}, `);
    this._emit(`!!env.getTest(${JSON.stringify(name)}).call(context, `);
    this.compile(node.left, frame);
    for (const a of call?.args.children ?? []) {
      this._emit(', ');
      this.compile(a, frame);
    }
    this._emit('))');
  }

  // --- Python truthiness ----------------------------------------------------------------------

  override compileIf(node: NjIf, frame: NjFrame, async?: boolean): void {
    const cond = node.cond;
    // not(not(x)) compiles to Python truthiness of x (see compileNot).
    node.cond = new nodes.Not(
      cond.lineno,
      cond.colno,
      new nodes.Not(cond.lineno, cond.colno, cond),
    );
    try {
      super.compileIf(node, frame, async);
    } finally {
      node.cond = cond;
    }
  }

  override compileInlineIf(node: NjInlineIf, frame: NjFrame): void {
    this._emit('(env.kbuild.truthy(');
    this.compile(node.cond, frame);
    this._emit(') ? ');
    this.compile(node.body, frame);
    this._emit(' : ');
    if (node.else_) this.compile(node.else_, frame);
    else this._emit('""');
    this._emit(')');
  }

  override compileNot(node: NjNode & { target: NjNode }, frame: NjFrame): void {
    this._emit('!env.kbuild.truthy(');
    this.compile(node.target, frame);
    this._emit(')');
  }

  // `kt` is assigned and read with nothing evaluated in between, so nesting is safe.
  override compileAnd(node: NjBinOp, frame: NjFrame): void {
    this._emit('((kt = ');
    this.compile(node.left, frame);
    this._emit('), env.kbuild.truthy(kt) ? ');
    this.compile(node.right, frame);
    this._emit(' : kt)');
  }

  override compileOr(node: NjBinOp, frame: NjFrame): void {
    this._emit('((kt = ');
    this.compile(node.left, frame);
    this._emit('), env.kbuild.truthy(kt) ? kt : ');
    this.compile(node.right, frame);
    this._emit(')');
  }

  // --- operators ------------------------------------------------------------------------------

  override compileCompare(node: NjCompare, frame: NjFrame): void {
    this._emit('env.kbuild.compare(');
    this.compile(node.expr, frame);
    this._emit(', [');
    node.ops.forEach((op, i) => {
      this._emit(`${i > 0 ? ', ' : ''}${JSON.stringify(op.type)}, `);
      this.compile(op.expr, frame);
    });
    this._emit('])');
  }

  private binop(helper: string, node: NjBinOp, frame: NjFrame): void {
    this._emit(`env.kbuild.${helper}(`);
    this.compile(node.left, frame);
    this._emit(', ');
    this.compile(node.right, frame);
    this._emit(`, ${this.loc(node, describe(node.left), describe(node.right))})`);
  }

  override compileAdd(node: NjBinOp, frame: NjFrame): void {
    this.binop('add', node, frame);
  }

  override compileConcat(node: NjBinOp, frame: NjFrame): void {
    this.binop('concat', node, frame);
  }

  override compileMul(node: NjBinOp, frame: NjFrame): void {
    this.binop('mul', node, frame);
  }

  override compileMod(node: NjBinOp, frame: NjFrame): void {
    this.binop('mod', node, frame);
  }

  // --- error location ---------------------------------------------------------------------------

  // nunjucks calls a function's callback inside its try block, and the callback goes on to run
  // the rest of the *calling* template (after an include or import, or a child template's
  // blocks). An exception from there is not this function's: once the callback has been
  // called, rethrow, so the template whose code threw locates it.
  override _emitFuncBegin(node: NjNode, name: string): void {
    super._emitFuncBegin(node, name);
    this._emitLine('var kcb = cb, kdone = false;');
    this._emitLine('cb = function (err, res) { kdone = true; return kcb(err, res); };');
  }

  override _emitFuncEnd(noReturn?: boolean): void {
    if (!noReturn) this._emitLine(`cb(null, ${this.buffer});`);
    this._closeScopeLevels();
    this._emitLine('} catch (e) {');
    this._emitLine('  if (kdone) throw e;');
    this._emitLine('  cb(env.kbuild.locate(e, lineno, colno, kfile));');
    this._emitLine('}');
    this._emitLine('}');
    (this as { buffer: string | null }).buffer = null;
  }

  override _compileMacro(node: NjNode, frame?: NjFrame): string {
    const id = super._compileMacro(node, frame);
    // A macro runs in its caller's stack; locate its errors here, in the file defining it.
    this._emitLine(
      `${id} = env.kbuild.wrapMacro(${id}, kfile, function () { return [lineno, colno]; });`,
    );
    return id;
  }

  override _compileGetTemplate(
    node: NjTemplateRef,
    frame: NjFrame,
    eagerCompile: boolean,
    ignoreMissing: boolean,
  ): string {
    const id = this._tmpid();
    const errId = this._tmpid();
    this._emit('env.getTemplate(');
    this._compileExpression(node.template, frame);
    this._emitLine(
      `, ${eagerCompile}, ${this._templateName()}, ${ignoreMissing}, function(${errId}, ${id}) {`,
    );
    this._emitLine(
      `if(${errId}) { cb(env.kbuild.locate(${errId}, ${node.lineno}, ${node.colno}, kfile)); return; }`,
    );
    return id;
  }

  // --- override stacking ----------------------------------------------------------------------

  override compileSet(node: NjSet, frame: NjFrame): void {
    const level = this.options.overrideLevel;
    if (level === undefined) {
      super.compileSet(node, frame);
      return;
    }
    // Overrides run last-given first (each extends the one before), so a plain top-level set
    // of an earlier override would overwrite a later one's. Route them through the runtime,
    // which keeps the value of the latest override (see _emitLine).
    const previous = this.setLevel;
    this.setLevel = level;
    try {
      super.compileSet(node, frame);
    } finally {
      this.setLevel = previous;
    }
  }

  /** While compiling an override's `{% set %}`: the override level, to rewrite its stores. */
  private setLevel: number | undefined;

  override _emitLine(code: string): void {
    const level = this.setLevel;
    if (level !== undefined) {
      const toFrame = /^frame\.set\(("(?:[^"\\]|\\.)*"), (t_\d+), true\);$/.exec(code);
      const toContext = /^context\.setVariable\(("(?:[^"\\]|\\.)*"), (t_\d+)\);$/.exec(code);
      if (toFrame) {
        super._emitLine(
          `if(!(frame.topLevel && env.kbuild.shadowed(context, ${level}, ${toFrame[1]}))) { ${code} }`,
        );
        return;
      }
      if (toContext) {
        super._emitLine(
          `env.kbuild.setFromOverride(context, ${level}, ${toContext[1]}, ${toContext[2]});`,
        );
        return;
      }
    }
    super._emitLine(code);
  }
}

/** Positions nunjucks' parser and lexer attach to their errors (1-based). */
interface PositionedError {
  lineno?: unknown;
  colno?: unknown;
}

/** A parse/compile error with its 1-based position, if nunjucks gave one. */
export class CompileError extends Error {
  constructor(
    message: string,
    readonly line: number | undefined,
    readonly column: number | undefined,
  ) {
    super(message);
    this.name = 'CompileError';
  }
}

/**
 * Compiles a preprocessed template to the JavaScript body nunjucks' Template accepts as
 * `{ type: 'code' }` (run it with `new Function`). Throws CompileError.
 */
export function compileTemplate(source: string, key: string, options: CompileOptions): string {
  try {
    const tokens = lexer.lex(source, { autoescape: false, trimBlocks: false, lstripBlocks: false });
    const ast = new JinjaParser(tokens).parseAsRoot();
    const compiler = new JinjaCompiler(key, options);
    // The transformer only lifts `super()` calls (its other passes are for async filters, which
    // kbuild has none of); it walks the whole tree several times, so skip it when unneeded.
    compiler.compile(/\bsuper\b/.test(source) ? transformer.transform(ast, [], key) : ast);
    return compiler.getCode();
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    const { lineno, colno } = err as PositionedError;
    throw new CompileError(
      err.message,
      typeof lineno === 'number' && lineno > 0 ? lineno : undefined,
      typeof colno === 'number' && colno > 0 ? colno : undefined,
    );
  }
}
