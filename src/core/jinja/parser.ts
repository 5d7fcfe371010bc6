/**
 * A nunjucks parser that accepts Jinja2 expression syntax nunjucks lacks:
 * - `True`, `False`, `None` literals (nunjucks knows only the lowercase ones);
 * - tuples `(a, b)`, `(a,)` (nunjucks compiles them to JavaScript's comma operator, i.e. `b`)
 *   and trailing commas in lists, tuples and dicts;
 * - `{% for k in dict %}` iterating the keys (nunjucks iterates nothing);
 * - slices `x[1:]`, `x[::-1]` and `x.0` for `x[0]`;
 * - tests with one argument and no parentheses: `x is in list`, `n is divisibleby 3`,
 *   and test names that are keywords (`x is none`, `x is true`);
 * - loop filtering `{% for x in xs if x.enabled %}` (nunjucks would read `xs if x.enabled` as an
 *   inline if and silently loop over the wrong thing).
 * Slices and loop filters become Filter nodes with names no template can write; the compiler
 * (jinja-compiler.ts) recognises them.
 */
import {
  ParserBase,
  isNode,
  lexer,
  nodes,
  type NjFor,
  type NjInlineIf,
  type NjListNode,
  type NjNode,
  type NjToken,
} from './nunjucks-internals.js';

/** Filter name of a slice `seq[start:stop:step]`: args seq, start, stop, step. */
export const SLICE_FILTER = 'slice()';
/** Filter name of a tuple `(a, b)`: args are its items. */
export const TUPLE_FILTER = 'tuple()';
/** Filter name of a star-arg `f(*items)`: arg items, spread into the call's arguments. */
export const STAR_FILTER = 'star()';
/** Filter name of a single-variable loop's iterable (a dict iterates its keys): arg items. */
export const ITER_FILTER = 'iter()';
/** Filter name of a filtered loop's iterable: args items, condition macro, target count. */
export const LOOP_FILTER = 'loopfilter()';

const CONSTANTS: Readonly<Record<string, unknown>> = { True: true, False: false, None: null };

/** Words after a test name that end the test rather than start its argument (as in Jinja2). */
const NOT_AN_ARGUMENT = new Set(['else', 'or', 'and', 'if', 'is', 'not', 'in']);

/** Block tags that need a closing tag: `{% if %}` … `{% endif %}`. */
const CLOSED_BLOCKS = new Set(['if', 'for', 'block', 'macro', 'call', 'filter', 'set']);

export class JinjaParser extends ParserBase {
  /**
   * A block tag the template ends inside of: nunjucks fails at the end of the file, where there
   * is no token left to take a position from. Say where the unclosed tag is instead (the
   * innermost one: a nested statement fails first and is located, so outer ones pass it on).
   */
  override parseStatement(): NjNode | null {
    const tag = this.peekToken();
    try {
      return super.parseStatement();
    } catch (e) {
      const located = (e as { lineno?: unknown }).lineno !== undefined;
      if (located || !tag || !CLOSED_BLOCKS.has(tag.value) || this.peekToken() !== null) throw e;
      return this.fail(
        `{% ${tag.value} %} is never closed: the template ends before its {% end${tag.value} %}`,
        tag.lineno,
        tag.colno,
      );
    }
  }

  override parsePrimary(noPostfix?: boolean): NjNode {
    const tok = this.peekToken();
    if (
      tok?.type === lexer.TOKEN_SYMBOL &&
      Object.prototype.hasOwnProperty.call(CONSTANTS, tok.value)
    ) {
      this.nextToken();
      const node = new nodes.Literal(tok.lineno, tok.colno, CONSTANTS[tok.value]);
      return noPostfix ? node : this.parsePostfix(node);
    }
    return super.parsePrimary(noPostfix);
  }

  override parseAggregate(): NjNode | null {
    const open = this.nextToken();
    if (!open) return null;
    const { lineno: l, colno: c } = open;
    let node: NjListNode;
    if (open.type === lexer.TOKEN_LEFT_PAREN) node = new nodes.Group(l, c);
    else if (open.type === lexer.TOKEN_LEFT_BRACKET) node = new nodes.Array(l, c);
    else if (open.type === lexer.TOKEN_LEFT_CURLY) node = new nodes.Dict(l, c);
    else return null;
    const closers = [lexer.TOKEN_RIGHT_PAREN, lexer.TOKEN_RIGHT_BRACKET, lexer.TOKEN_RIGHT_CURLY];
    const atClose = (): boolean => closers.includes(this.peekToken()?.type ?? '');
    let trailingComma = false;
    for (;;) {
      if (atClose()) {
        this.nextToken();
        break;
      }
      if (node.children.length > 0) {
        if (!this.skip(lexer.TOKEN_COMMA)) this.fail('expected comma after expression', l, c);
        trailingComma = true;
        if (atClose()) {
          this.nextToken();
          break;
        }
      }
      if (node.typename === 'Dict') {
        const key = this.parsePrimary();
        if (!this.skip(lexer.TOKEN_COLON)) this.fail('expected colon after dict key', l, c);
        const value = this.parseExpression();
        node.addChild(new nodes.Pair(key.lineno, key.colno, key, value));
      } else {
        node.addChild(this.parseExpression());
      }
      trailingComma = false;
    }
    if (node.typename === 'Group' && (node.children.length !== 1 || trailingComma)) {
      return new nodes.Filter(
        l,
        c,
        new nodes.Symbol(l, c, TUPLE_FILTER),
        new nodes.NodeList(l, c, node.children),
      );
    }
    return node;
  }

  override parsePostfix(node: NjNode): NjNode {
    let cur = node;
    for (let tok = this.peekToken(); tok; tok = this.peekToken()) {
      if (tok.type === lexer.TOKEN_LEFT_PAREN) {
        cur = new nodes.FunCall(tok.lineno, tok.colno, cur, this.parseCallArguments());
      } else if (tok.type === lexer.TOKEN_LEFT_BRACKET) {
        cur = this.parseSubscript(cur, tok);
      } else if (tok.type === lexer.TOKEN_OPERATOR && tok.value === '.') {
        this.nextToken();
        const val = this.nextToken();
        if (val?.type === lexer.TOKEN_SYMBOL) {
          cur = new nodes.LookupVal(
            tok.lineno,
            tok.colno,
            cur,
            new nodes.Literal(val.lineno, val.colno, val.value),
          );
        } else if (val?.type === lexer.TOKEN_INT || val?.type === lexer.TOKEN_FLOAT) {
          // `x.0` is `x[0]`; the lexer reads `x.0.name` as x . "0." name, and `x.0.1` as x . "0.1".
          const [first = '', second] = val.value.split('.');
          const index = (digits: string): NjNode =>
            new nodes.Literal(val.lineno, val.colno, parseInt(digits, 10));
          cur = new nodes.LookupVal(tok.lineno, tok.colno, cur, index(first));
          if (second !== undefined && second !== '') {
            cur = new nodes.LookupVal(tok.lineno, tok.colno, cur, index(second));
          } else if (second === '') {
            const name = this.nextToken();
            if (name?.type !== lexer.TOKEN_SYMBOL)
              this.fail("expected a name after '.'", tok.lineno, tok.colno);
            cur = new nodes.LookupVal(
              tok.lineno,
              tok.colno,
              cur,
              new nodes.Literal(name.lineno, name.colno, name.value),
            );
          }
        } else {
          this.fail(
            `expected a name after '.', got ${val ? `'${val.value}'` : 'end of file'}`,
            tok.lineno,
            tok.colno,
          );
        }
      } else {
        break;
      }
    }
    return cur;
  }

  /**
   * A call's arguments, `(` being the next token: positional, `name=value`, and Jinja2's
   * `*iterable` (spread into the positional arguments: a STAR_FILTER node), with an optional
   * trailing comma. Macro definitions keep nunjucks' parseSignature: a star means nothing there.
   */
  private parseCallArguments(): NjListNode {
    const open = this.nextToken()!;
    const args = new nodes.NodeList(open.lineno, open.colno);
    const kwargs = new nodes.KeywordArgs(open.lineno, open.colno);
    for (let first = true; ; first = false) {
      let tok = this.peekToken();
      if (tok?.type === lexer.TOKEN_RIGHT_PAREN) {
        this.nextToken();
        break;
      }
      if (!first) {
        if (!this.skip(lexer.TOKEN_COMMA))
          this.fail('expected comma after expression', tok?.lineno, tok?.colno);
        tok = this.peekToken();
        if (tok?.type === lexer.TOKEN_RIGHT_PAREN) {
          this.nextToken();
          break;
        }
      }
      if (!tok) this.fail("expected ')' to close the call", open.lineno, open.colno);
      if (tok.type === lexer.TOKEN_OPERATOR && tok.value === '*') {
        this.nextToken();
        const items = this.parseExpression();
        args.addChild(
          new nodes.Filter(
            tok.lineno,
            tok.colno,
            new nodes.Symbol(tok.lineno, tok.colno, STAR_FILTER),
            new nodes.NodeList(tok.lineno, tok.colno, [items]),
          ),
        );
        continue;
      }
      const arg = this.parseExpression();
      if (this.skipValue(lexer.TOKEN_OPERATOR, '=')) {
        kwargs.addChild(new nodes.Pair(arg.lineno, arg.colno, arg, this.parseExpression()));
      } else {
        args.addChild(arg);
      }
    }
    if (kwargs.children.length) args.addChild(kwargs);
    return args;
  }

  /** `target[index]` or `target[start:stop:step]`, the `[` being the next token. */
  private parseSubscript(target: NjNode, open: NjToken): NjNode {
    this.nextToken();
    const peekIs = (type: string): boolean => this.peekToken()?.type === type;
    let start: NjNode | null = null;
    let stop: NjNode | null = null;
    let step: NjNode | null = null;
    let isSlice: boolean;
    if (this.skip(lexer.TOKEN_COLON)) {
      isSlice = true;
    } else {
      start = this.parseExpression();
      isSlice = this.skip(lexer.TOKEN_COLON);
    }
    if (isSlice) {
      if (!peekIs(lexer.TOKEN_RIGHT_BRACKET) && !peekIs(lexer.TOKEN_COLON))
        stop = this.parseExpression();
      if (this.skip(lexer.TOKEN_COLON) && !peekIs(lexer.TOKEN_RIGHT_BRACKET))
        step = this.parseExpression();
    }
    if (!this.skip(lexer.TOKEN_RIGHT_BRACKET)) this.fail("expected ']'", open.lineno, open.colno);
    if (!isSlice && start) return new nodes.LookupVal(open.lineno, open.colno, target, start);
    const none = (): NjNode => new nodes.Literal(open.lineno, open.colno, null);
    const args = new nodes.NodeList(open.lineno, open.colno, [
      target,
      start ?? none(),
      stop ?? none(),
      step ?? none(),
    ]);
    return new nodes.Filter(
      open.lineno,
      open.colno,
      new nodes.Symbol(open.lineno, open.colno, SLICE_FILTER),
      args,
    );
  }

  override parseIs(): NjNode {
    const node = this.parseCompare();
    const isTok = this.peekToken();
    if (!this.skipSymbol('is')) return node;
    const not = this.skipSymbol('not');
    const nameTok = this.nextToken();
    const nameTypes = [lexer.TOKEN_SYMBOL, lexer.TOKEN_NONE, lexer.TOKEN_BOOLEAN];
    if (!nameTok || !nameTypes.includes(nameTok.type)) {
      this.fail("expected a test name after 'is'", isTok?.lineno, isTok?.colno);
    }
    let test: NjNode = new nodes.Symbol(nameTok.lineno, nameTok.colno, nameTok.value);
    const next = this.peekToken();
    if (next?.type === lexer.TOKEN_LEFT_PAREN) {
      test = new nodes.FunCall(next.lineno, next.colno, test, this.parseSignature());
    } else if (next && startsArgument(next)) {
      const arg = this.parsePrimary();
      test = new nodes.FunCall(
        next.lineno,
        next.colno,
        test,
        new nodes.NodeList(next.lineno, next.colno, [arg]),
      );
    }
    const is = new nodes.Is(node.lineno, node.colno, node, test);
    return not ? new nodes.Not(node.lineno, node.colno, is) : is;
  }

  override parseFor(): NjNode {
    const node = super.parseFor();
    if (!isNode<NjFor>(node, 'For')) return node;
    const arr = node.arr;
    if (isNode<NjInlineIf>(arr, 'InlineIf') && arr.else_ === null) {
      // `for x in items if cond`: keep the items for which cond holds. The condition becomes an
      // anonymous macro over the loop variable(s) that prints "1" when it holds.
      const { lineno: l, colno: c } = arr;
      const targets = isNode<NjListNode>(node.name, 'Array') ? node.name.children : [node.name];
      const one = new nodes.Literal(l, c, '1');
      const empty = new nodes.Literal(l, c, '');
      const body = new nodes.NodeList(l, c, [
        new nodes.Output(l, c, [new nodes.InlineIf(l, c, arr.cond, one, empty)]),
      ]);
      const keep = new nodes.Caller(
        l,
        c,
        new nodes.Symbol(l, c, 'caller'),
        new nodes.NodeList(l, c, targets),
        body,
      );
      const args = new nodes.NodeList(l, c, [
        arr.body,
        keep,
        new nodes.Literal(l, c, targets.length),
      ]);
      node.arr = new nodes.Filter(l, c, new nodes.Symbol(l, c, LOOP_FILTER), args);
    } else if (node.name.typename === 'Symbol') {
      const { lineno: l, colno: c } = arr;
      node.arr = new nodes.Filter(
        l,
        c,
        new nodes.Symbol(l, c, ITER_FILTER),
        new nodes.NodeList(l, c, [arr]),
      );
    }
    return node;
  }
}

function startsArgument(tok: NjToken): boolean {
  switch (tok.type) {
    case lexer.TOKEN_SYMBOL:
      return !NOT_AN_ARGUMENT.has(tok.value);
    case lexer.TOKEN_STRING:
    case lexer.TOKEN_INT:
    case lexer.TOKEN_FLOAT:
    case lexer.TOKEN_BOOLEAN:
    case lexer.TOKEN_NONE:
    case lexer.TOKEN_LEFT_BRACKET:
    case lexer.TOKEN_LEFT_CURLY:
      return true;
    default:
      return false;
  }
}
