// nunjucks ships no typings for its AST transformer (used to lift `super()` calls); see
// nunjucks-internals.ts for the typed view kbuild uses.
declare module 'nunjucks/src/transformer.js' {
  const transformer: unknown;
  export default transformer;
}
