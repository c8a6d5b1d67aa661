/**
 * A `deno lint` plugin that reports what a browser does not have: any use of the `Deno`
 * global and any `node:` import, static, dynamic or re-exported. The client (`client/`) and
 * what it imports (`internal/`, `codec.ts`, `protocol.ts`) must stay browser-safe;
 * `tests/module_graph_test.ts` runs this plugin over them. It reads the syntax tree, so JSDoc
 * examples (which may start a server with `Deno.serve`) do not count.
 *
 * @module
 */

/** Whether a module specifier names a Node built-in (`node:fs`, ...). */
function nodeSpecifier(value: unknown): boolean {
  return typeof value === "string" && value.startsWith("node:");
}

/** The plugin: one rule, `browser-safe/no-runtime-globals`. */
const plugin: Deno.lint.Plugin = {
  name: "browser-safe",
  rules: {
    "no-runtime-globals": {
      create(context) {
        const nodeImport = (node: Deno.lint.Node, source: unknown) => {
          if (nodeSpecifier(source)) {
            context.report({
              node,
              message: `A browser cannot import ${source}: use a web API or an npm package`,
            });
          }
        };
        return {
          Identifier(node) {
            if (node.name === "Deno") {
              context.report({ node, message: "A browser has no Deno global: use a web API" });
            }
          },
          Literal(node) {
            if (node.value === "Deno" && node.parent.type === "MemberExpression") {
              context.report({ node, message: "A browser has no Deno global: use a web API" });
            }
          },
          ImportDeclaration(node) {
            nodeImport(node, node.source.value);
          },
          ExportAllDeclaration(node) {
            nodeImport(node, node.source.value);
          },
          ExportNamedDeclaration(node) {
            nodeImport(node, node.source?.value);
          },
          ImportExpression(node) {
            if (node.source.type === "Literal") nodeImport(node, node.source.value);
          },
        };
      },
    },
  },
};

export default plugin;
