/**
 * Typed handles on the parts of nunjucks that its public typings leave out: the lexer, parser,
 * compiler, transformer and AST node classes. kbuild subclasses the parser and the compiler (see
 * jinja-parser.ts, jinja-compiler.ts) to make nunjucks accept and behave like Jinja2; nothing
 * here patches nunjucks globally, so other users of nunjucks in the process are unaffected.
 *
 * Only the members kbuild uses are declared. They are stable across nunjucks 3.x (checked
 * against 3.2.4).
 */
import nunjucks from 'nunjucks';
import transformerModule from 'nunjucks/src/transformer.js';

// ---------------------------------------------------------------------------
// AST nodes. Positions are 0-based in nodes and tokens.

export interface NjNode {
  readonly typename: string;
  readonly lineno: number;
  readonly colno: number;
}
/** Literal, Symbol, TemplateData. */
export interface NjValueNode extends NjNode {
  value: unknown;
}
/** NodeList, Group, Array, Dict, Output, KeywordArgs, Root. */
export interface NjListNode extends NjNode {
  children: NjNode[];
  addChild(node: NjNode): void;
}
export interface NjPair extends NjNode {
  key: NjNode;
  value: NjNode;
}
export interface NjLookupVal extends NjNode {
  target: NjNode;
  val: NjNode;
}
/** FunCall and Filter. */
export interface NjFunCall extends NjNode {
  name: NjNode;
  args: NjListNode;
}
/** Is, In, Add, Concat, Mul, Mod and the other binary operators. */
export interface NjBinOp extends NjNode {
  left: NjNode;
  right: NjNode;
}
export interface NjCompare extends NjNode {
  expr: NjNode;
  ops: { type: string; expr: NjNode }[];
}
export interface NjInlineIf extends NjNode {
  cond: NjNode;
  body: NjNode;
  else_: NjNode | null;
}
export interface NjFor extends NjNode {
  arr: NjNode;
  /** The loop variable (Symbol) or variables (Array of Symbols). */
  name: NjNode;
}
export interface NjIf extends NjNode {
  cond: NjNode;
}
/** Extends, Include, Import, FromImport. */
export interface NjTemplateRef extends NjNode {
  template: NjNode;
}
export interface NjSet extends NjNode {
  targets: NjValueNode[];
}

type Ctor<A extends unknown[], T> = new (lineno: number, colno: number, ...rest: A) => T;

export interface NjNodeClasses {
  Literal: Ctor<[value: unknown], NjValueNode>;
  Symbol: Ctor<[value: string], NjValueNode>;
  NodeList: Ctor<[children?: NjNode[]], NjListNode>;
  Array: Ctor<[children?: NjNode[]], NjListNode>;
  Group: Ctor<[children?: NjNode[]], NjListNode>;
  Dict: Ctor<[children?: NjNode[]], NjListNode>;
  KeywordArgs: Ctor<[children?: NjNode[]], NjListNode>;
  Pair: Ctor<[key: NjNode, value: NjNode], NjPair>;
  FunCall: Ctor<[name: NjNode, args: NjListNode], NjFunCall>;
  Filter: Ctor<[name: NjNode, args: NjListNode], NjFunCall>;
  Is: Ctor<[left: NjNode, right: NjNode], NjBinOp>;
  Not: Ctor<[target: NjNode], NjNode>;
  LookupVal: Ctor<[target: NjNode, val: NjNode], NjLookupVal>;
  Output: Ctor<[children?: NjNode[]], NjListNode>;
  InlineIf: Ctor<[cond: NjNode, body: NjNode, else_: NjNode | null], NjInlineIf>;
  /** An anonymous macro (`{% call %}` body): name, parameters, body. */
  Caller: Ctor<[name: NjNode, args: NjListNode, body: NjListNode], NjNode>;
  Block: Ctor<[name: NjNode, body: NjListNode], NjNode & { name: NjValueNode }>;
}

// ---------------------------------------------------------------------------
// Lexer and parser.

export interface NjToken {
  readonly type: string;
  readonly value: string;
  readonly lineno: number;
  readonly colno: number;
}

/** The token stream the parser reads; its position is 0-based. */
export interface NjTokenizer {
  lineno: number;
  colno: number;
  isFinished(): boolean;
}

export interface NjLexer {
  lex(src: string, opts: object): NjTokenizer;
  TOKEN_SYMBOL: string;
  TOKEN_STRING: string;
  TOKEN_INT: string;
  TOKEN_FLOAT: string;
  TOKEN_BOOLEAN: string;
  TOKEN_NONE: string;
  TOKEN_LEFT_PAREN: string;
  TOKEN_LEFT_BRACKET: string;
  TOKEN_RIGHT_BRACKET: string;
  TOKEN_RIGHT_PAREN: string;
  TOKEN_RIGHT_CURLY: string;
  TOKEN_COMMA: string;
  TOKEN_LEFT_CURLY: string;
  TOKEN_COLON: string;
  TOKEN_OPERATOR: string;
}

export interface NjParser {
  peeked: NjToken | null;
  peekToken(): NjToken | null;
  nextToken(): NjToken | null;
  pushToken(tok: NjToken | null): void;
  skip(type: string): boolean;
  skipSymbol(value: string): boolean;
  skipValue(type: string, value: string): boolean;
  fail(msg: string, lineno?: number, colno?: number): never;
  parseExpression(): NjNode;
  parsePrimary(noPostfix?: boolean): NjNode;
  parsePostfix(node: NjNode): NjNode;
  parseSignature(tolerant?: boolean, noParens?: boolean): NjListNode;
  parseAggregate(): NjNode | null;
  parseCompare(): NjNode;
  parseIs(): NjNode;
  parseFor(): NjNode;
  parseStatement(): NjNode | null;
  parseAsRoot(): NjNode;
}
export type NjParserClass = new (tokens: unknown) => NjParser;

// ---------------------------------------------------------------------------
// Compiler.

/** A compile-time scope. Opaque to kbuild. */
export type NjFrame = object;

export interface NjCompiler {
  templateName: string;
  buffer: string;
  _emit(code: string): void;
  _emitLine(code: string): void;
  _tmpid(): string;
  _templateName(): string;
  _compileExpression(node: NjNode, frame: NjFrame): void;
  _compileMacro(node: NjNode, frame?: NjFrame): string;
  _compileGetTemplate(
    node: NjTemplateRef,
    frame: NjFrame,
    eagerCompile: boolean,
    ignoreMissing: boolean,
  ): string;
  _emitFuncBegin(node: NjNode, name: string): void;
  _emitFuncEnd(noReturn?: boolean): void;
  _closeScopeLevels(): void;
  fail(msg: string, lineno?: number, colno?: number): never;
  compile(node: NjNode, frame?: NjFrame): void;
  compileLiteral(node: NjNode, frame: NjFrame): void;
  compileOutput(node: NjListNode, frame: NjFrame): void;
  compileLookupVal(node: NjLookupVal, frame: NjFrame): void;
  compileFilter(node: NjFunCall, frame: NjFrame): void;
  compileIs(node: NjBinOp, frame: NjFrame): void;
  compileIf(node: NjIf, frame: NjFrame, async?: boolean): void;
  compileInlineIf(node: NjInlineIf, frame: NjFrame): void;
  compileNot(node: NjNode & { target: NjNode }, frame: NjFrame): void;
  compileAnd(node: NjBinOp, frame: NjFrame): void;
  compileOr(node: NjBinOp, frame: NjFrame): void;
  compileCompare(node: NjCompare, frame: NjFrame): void;
  compileAdd(node: NjBinOp, frame: NjFrame): void;
  compileConcat(node: NjBinOp, frame: NjFrame): void;
  compileMul(node: NjBinOp, frame: NjFrame): void;
  compileMod(node: NjBinOp, frame: NjFrame): void;
  compileSet(node: NjSet, frame: NjFrame): void;
  getCode(): string;
}
export type NjCompilerClass = new (templateName: string, throwOnUndefined: boolean) => NjCompiler;

// ---------------------------------------------------------------------------

interface NunjucksInternals {
  lexer: NjLexer;
  parser: { Parser: NjParserClass };
  compiler: { Compiler: NjCompilerClass };
  nodes: NjNodeClasses;
  runtime: { SafeString: new (s: string) => object };
}

const internals = nunjucks as unknown as NunjucksInternals;

export const lexer: NjLexer = internals.lexer;
export const ParserBase: NjParserClass = internals.parser.Parser;
export const CompilerBase: NjCompilerClass = internals.compiler.Compiler;
export const nodes: NjNodeClasses = internals.nodes;
export const SafeString: new (s: string) => object = internals.runtime.SafeString;
export const transformer = transformerModule as {
  transform(ast: NjNode, asyncFilters: string[], name: string): NjNode;
};

/** Narrows a node by its type name. */
export function isNode<T extends NjNode>(
  node: NjNode | null | undefined,
  typename: string,
): node is T {
  return node !== null && node !== undefined && node.typename === typename;
}
