/**
 * What analyzers return: language-server-style findings with 0-based ranges, a stable code, a
 * severity and a message that says what to do. Pure data; the editor adapter maps them to
 * vscode.Diagnostic and the CLI prints them 1-based.
 */
export type FindingSeverity = 'error' | 'warning' | 'information' | 'hint';

export interface Position {
  line: number;
  character: number;
}

export interface Range {
  start: Position;
  end: Position;
}

/** A text edit that fixes the finding (quick fix): replace `range` with `newText`. */
export interface FindingFix {
  title: string;
  range: Range;
  newText: string;
}

export interface Finding {
  range: Range;
  severity: FindingSeverity;
  code: string;
  message: string;
  fixes?: FindingFix[];
}

export function range(line: number, startChar: number, endLine: number, endChar: number): Range {
  return { start: { line, character: startChar }, end: { line: endLine, character: endChar } };
}

/** The whole of one line (length in UTF-16 units, as editors count). */
export function lineRange(line: number, length: number): Range {
  return range(line, 0, line, length);
}

const ORDER: Record<FindingSeverity, number> = { error: 0, warning: 1, information: 2, hint: 3 };

export function sortFindings(findings: Finding[]): Finding[] {
  return findings.sort((a, b) => a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character || ORDER[a.severity] - ORDER[b.severity]);
}

/**
 * A finding as one line of text, `file:line:column: severity code message`, 1-based as editors show
 * them (the Problems panel's Ln and Col): `validate` prints it, the Output channel logs it.
 */
export function formatFinding(file: string, f: Finding): string {
  return `${file}:${f.range.start.line + 1}:${f.range.start.character + 1}: ${f.severity} ${f.code} ${f.message}`;
}
