// Lists the exports of a module as the TypeScript compiler sees them: one `name<TAB>kind` line
// each, sorted. `--with-source` adds the file that declares each. Used by test/public-api.test.ts
// (the public surface is checked in as etc/public-api.txt, so every change to it is deliberate).
import ts from 'typescript';

const args = process.argv.slice(2);
const withSource = args.includes('--with-source');
const file = args.find((a) => !a.startsWith('--')) ?? 'src/index.ts';
const program = ts.createProgram([file], {
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  target: ts.ScriptTarget.ES2022,
  strict: true,
  noEmit: true,
});
const checker = program.getTypeChecker();
const source = program.getSourceFile(file);
if (source === undefined) throw new Error(`Not found: ${file}`);
const moduleSymbol = checker.getSymbolAtLocation(source);
const lines = [];
for (const exported of moduleSymbol ? checker.getExportsOfModule(moduleSymbol) : []) {
  const target = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
  const f = target.flags;
  const kind =
    f & ts.SymbolFlags.Class ? 'class'
    : f & ts.SymbolFlags.Function ? 'function'
    : f & ts.SymbolFlags.Interface ? 'interface'
    : f & ts.SymbolFlags.TypeAlias ? 'type'
    : f & ts.SymbolFlags.Variable ? 'const'
    : 'other';
  const decl = target.declarations?.[0];
  const where = decl ? decl.getSourceFile().fileName.replace(`${process.cwd()}/`, '') : '?';
  lines.push(withSource ? `${exported.name}\t${kind}\t${where}` : `${exported.name}\t${kind}`);
}
lines.sort();
process.stdout.write(`${lines.join('\n')}\n`);
