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

/**
 * Part of the key of every compiled template kept between runs (render.ts `CompiledTemplateCache`).
 * The CLI's cache also keys on a hash of this layer's code and on nunjucks' version, so an edit
 * here invalidates cached code on its own; bump this anyway when what is emitted changes, for
 * caches that cannot hash the code.
 */
export const COMPILER_VERSION = 'kbuild-jinja-2';

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

/** The node type of a for loop's {% else %} body, compiled in its own scope. */
const SCOPED = 'KbuildScoped';

class JinjaCompiler extends CompilerBase {
  private readonly locs: Loc[] = [];
  /** The last node compiled that has a position (0-based), for errors that have none. */
  private last: { lineno: number; colno: number } = { lineno: 0, colno: 0 };

  /** 1-based position of the node compiled last. */
  position(): { line: number; column: number } {
    return { line: this.last.lineno + 1, column: this.last.colno + 1 };
  }

  /** The `{% from … import … %}` being compiled: its position locates a missing name. */
  private fromImport: NjNode | undefined;

  override compile(node: NjNode, frame?: NjFrame): void {
    if (typeof node.lineno === 'number' && typeof node.colno === 'number') this.last = node;
    switch (node.typename) {
      case 'Root':
        this.checkBlockNames(node);
        break;
      case 'For': {
        // nunjucks compiles a loop's {% else %} body without closing the callbacks opened in it
        // (a {% block %}, an include or an import there gave unbalanced JavaScript): close them,
        // as nunjucks does for the loop's own body. Put back after: the root looks for blocks.
        const loop = node as NjNode & { else_: NjNode | null };
        const else_ = loop.else_;
        if (!else_) break;
        const { lineno, colno } = else_;
        loop.else_ = { typename: SCOPED, lineno, colno, inner: else_ } as NjNode;
        try {
          super.compile(node, frame);
        } finally {
          loop.else_ = else_;
        }
        return;
      }
      case 'FromImport': {
        const previous = this.fromImport;
        this.fromImport = node;
        try {
          super.compile(node, frame);
        } finally {
          this.fromImport = previous;
        }
        return;
      }
    }
    super.compile(node, frame);
  }

  compileKbuildScoped(node: NjNode & { inner: NjNode }, frame: NjFrame): void {
    const self = this as unknown as { _withScopedSyntax(f: () => void): void };
    self._withScopedSyntax(() => this.compile(node.inner, frame));
  }

  /** Block names: identifiers, each once (nunjucks says "defined more than once" nowhere). */
  private checkBlockNames(root: NjNode): void {
    const seen = new Set<unknown>();
    const all = (
      root as unknown as { findAll(t: unknown): (NjNode & { name: NjValueNode })[] }
    ).findAll(nodes.Block);
    for (const block of all) {
      const name = block.name.value;
      // The name becomes part of a JavaScript function name: `{% block ?a %}` compiled to code
      // that did not parse ("internal error: compiled template is invalid").
      if (typeof name !== 'string' || !IDENTIFIER.test(name)) {
        this.fail(
          `'${String(name)}' is not a block name: use letters, digits and _ (not first a digit)`,
          block.lineno,
          block.colno,
        );
      }
      if (seen.has(name)) {
        this.fail(
          `block '${String(name)}' is defined twice in this template: rename one of them`,
          block.lineno,
          block.colno,
        );
      }
      seen.add(name);
    }
  }

  constructor(
    private readonly key: string,
    private readonly options: CompileOptions,
    private readonly source: string,
  ) {
    super(key, true);
  }

  /** Registers a location and returns the JavaScript expression naming it. */
  private loc(node: NjNode, d: string, d2?: string): string {
    return this.locAt(node.lineno, node.colno, d, d2);
  }

  /** Registers a 0-based position (with the macro compiled around it, for line maps). */
  private locAt(lineno: number, colno: number, d: string, d2?: string): string {
    const l: Loc = {
      f: this.key,
      l: lineno + 1,
      c: colno + 1,
      d,
      ...(d2 ? { d2 } : {}),
      ...(this.macroName !== undefined ? { m: this.macroName } : {}),
    };
    this.locs.push(l);
    return `kloc[${this.locs.length - 1}]`;
  }

  /** The `{% macro %}` whose body is being compiled (a `{% call %}` body is its caller's). */
  private macroName: string | undefined;

  /** Offsets where each line of the source starts, for positions of template data. */
  private lineStarts: number[] | undefined;

  /**
   * Where a piece of template data really starts (0-based): nunjucks places it where its token
   * began, before the whitespace a `-%}` or `-}}` before it dropped.
   */
  private dataStart(node: NjValueNode): { lineno: number; colno: number } {
    const value = String(node.value);
    const pos = { lineno: node.lineno, colno: node.colno };
    if (/^\s/.test(value)) return pos;
    if (!this.lineStarts) {
      this.lineStarts = [0];
      for (let i = this.source.indexOf('\n'); i >= 0; i = this.source.indexOf('\n', i + 1)) {
        this.lineStarts.push(i + 1);
      }
    }
    const start = this.lineStarts[pos.lineno];
    if (start === undefined) return pos;
    let i = start + pos.colno;
    for (; i < this.source.length && /\s/.test(this.source[i] ?? ''); i++) {
      if (this.source[i] === '\n') {
        pos.lineno++;
        pos.colno = 0;
      } else {
        pos.colno++;
      }
    }
    return pos;
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
          // Through the runtime, which marks where the text came from when tracing line maps.
          const { lineno, colno } = this.dataStart(child as NjValueNode);
          this._emit(`${this.buffer} += env.kbuild.text(`);
          this.compileLiteral(child, frame);
          this._emitLine(`, ${this.locAt(lineno, colno, '')});`);
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
    const previous = this.macroName;
    if (node.typename === 'Macro') {
      this.macroName = String((node as NjNode & { name: NjValueNode }).name.value);
    }
    let id: string;
    try {
      id = super._compileMacro(node, frame);
    } finally {
      this.macroName = previous;
    }
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
    const missing =
      this.fromImport && /^cb\(new Error\("cannot import '(\w+)'"\)\); return;$/.exec(code);
    if (missing && this.fromImport) {
      const { lineno, colno } = this.fromImport;
      const why = `cannot import '${missing[1]}': the template defines no macro or variable of that name`;
      super._emitLine(
        `cb(env.kbuild.locate(new Error(${JSON.stringify(why)}), ${lineno}, ${colno}, kfile)); return;`,
      );
      return;
    }
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
  const tokens = lexer.lex(source, { autoescape: false, trimBlocks: false, lstripBlocks: false });
  const compiler = new JinjaCompiler(key, options, source);
  let parsed = false;
  try {
    const ast = new JinjaParser(tokens).parseAsRoot();
    parsed = true;
    // The transformer only lifts `super()` calls (its other passes are for async filters, which
    // kbuild has none of); it walks the whole tree several times, so skip it when unneeded.
    compiler.compile(/\bsuper\b/.test(source) ? transformer.transform(ast, [], key) : ast);
    return compiler.getCode();
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    const { lineno, colno } = err as PositionedError;
    if (typeof lineno === 'number' && lineno > 0) {
      throw new CompileError(
        err.message,
        lineno,
        typeof colno === 'number' && colno > 0 ? colno : undefined,
      );
    }
    // Some of nunjucks' errors carry no position: the lexer's ('#}' outside a comment, a comment
    // the file ends in), the parser's at the end of the file, and JavaScript errors of its parser
    // and compiler on input they do not expect. Place them where reading stopped, or at the
    // statement compiled last.
    const at = parsed ? compiler.position() : { line: tokens.lineno + 1, column: tokens.colno + 1 };
    throw new CompileError(
      unpositionedMessage(err, parsed, tokens.isFinished()),
      at.line,
      at.column,
    );
  }
}

/** The message of an error nunjucks raised without a position, in the template's terms. */
function unpositionedMessage(err: Error, parsed: boolean, atEnd: boolean): string {
  if (/^unexpected end of comment/.test(err.message)) {
    return "'#}' outside a comment: write {{ '#}' }} to output it";
  }
  // nunjucks' own assertions and JavaScript errors say nothing about the template.
  if (err instanceof TypeError || /^pushToken:/.test(err.message)) {
    if (parsed) return 'cannot compile this statement';
    return atEnd
      ? 'the template ends inside a tag: close it with %} or }}'
      : 'cannot parse the template here';
  }
  return err.message;
}
