import * as vscode from 'vscode';
import { FIELD_NAMES, paramFromText, type ParamPick, type ParamSpec } from '../../core/transform/ParamSpec';
import type { AnyTransformMethod } from '../../core/transform/TransformMethod';

interface Item extends vscode.QuickPickItem {
  readonly pick?: ParamPick;
  /** Another option of the same field, asked for in an input box (an error budget beside the bits budget). */
  readonly other?: ParamSpec;
}

/** The text of `e` for a validation message. */
function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Asks for the parameters of `method` that its table entry offers QuickPick items for, in table
 * order: each parameter's picks (skipped when an earlier pick set it, or when its `pickWhen`
 * says no), a setting where the entry names one, and an input box for another option of the same
 * field. Returns the fields picked, or undefined when the user cancelled.
 */
export async function askMethodParams(method: AnyTransformMethod, title: string): Promise<Record<string, unknown> | undefined> {
  const picked: Record<string, unknown> = {};
  const order = method.params.map((spec, i) => ({ spec, at: spec.pickOrder ?? i })).sort((a, b) => a.at - b.at);
  for (const { spec } of order) {
    if (picked[spec.field] !== undefined) continue;
    if (spec.setting) {
      picked[spec.field] = vscode.workspace.getConfiguration('quantscope').get(spec.setting, spec.default);
      continue;
    }
    if (!spec.picks || (spec.pickWhen && !spec.pickWhen(picked))) continue;
    const others = method.params.filter((s) => s !== spec && s.field === spec.field && !s.picks);
    const items: Item[] = [
      ...spec.picks.map((pick) => ({ label: pick.label, description: pick.description, pick })),
      ...others.map((other) => ({ label: other.pickTitle ?? other.name, description: other.help, other })),
    ];
    const choice = await vscode.window.showQuickPick(items, { title: `${title}: ${spec.pickTitle ?? spec.name}` });
    if (!choice) return undefined;
    if (choice.pick) {
      const { value } = choice.pick;
      // A pick holds what the command line would write (`6` bits per weight); the field may hold a wrapped form of it.
      if (value !== undefined) picked[spec.field] = spec.codec ? spec.codec.parse(String(value)) : spec.wrap && typeof value === 'number' ? spec.wrap.to(value) : value;
      Object.assign(picked, choice.pick.with);
    } else if (choice.other) {
      const other = choice.other;
      const read = (text: string): unknown => paramFromText(other, text, false, FIELD_NAMES);
      const text = await vscode.window.showInputBox({
        title: `${title}: ${other.pickTitle ?? other.name}`,
        prompt: other.help,
        value: other.pickInput ?? (other.default === undefined ? '' : String(other.default)),
        validateInput: (v) => {
          try {
            read(v);
            return undefined;
          } catch (e) {
            return messageOf(e);
          }
        },
      });
      if (text === undefined) return undefined;
      picked[spec.field] = read(text);
    }
  }
  return picked;
}
