import ts from 'typescript';
const file = process.argv[2];
const program = ts.createProgram([file], { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, strict: true });
const checker = program.getTypeChecker();
const sf = program.getSourceFile(file);
const sym = checker.getSymbolAtLocation(sf);
const out = [];
for (const e of checker.getExportsOfModule(sym)) {
  let t = e; if (t.flags & ts.SymbolFlags.Alias) t = checker.getAliasedSymbol(t);
  const f = t.flags; let kind = 'value';
  if (f & ts.SymbolFlags.Class) kind='class'; else if (f & ts.SymbolFlags.Function) kind='function'; else if (f & ts.SymbolFlags.Interface) kind='interface'; else if (f & ts.SymbolFlags.TypeAlias) kind='type'; else if (f & ts.SymbolFlags.Variable) kind='const'; else if (f & ts.SymbolFlags.Enum) kind='enum';
  const decl = t.declarations?.[0]; const src = decl ? decl.getSourceFile().fileName.replace(process.cwd()+'/','') : '?';
  out.push(`${e.name}\t${kind}\t${src}`);
}
out.sort(); console.log(out.join('\n'));
