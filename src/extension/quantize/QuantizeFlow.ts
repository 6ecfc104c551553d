import * as path from 'node:path';
import * as vscode from 'vscode';
import type { QuantizeFormat, QuantizeMethod, QuantizeParams, QuantizeReport } from '../../protocol/quantizeTypes';
import type { LayerProfile, QuantizableLayer } from '../../protocol/workerProtocol';
import type { WorkerClient } from '../client/WorkerClient';
import type { ProfileService } from '../profile/ProfileService';
import { renderReportMarkdown } from './renderReportMarkdown';
import type { TransformRunner } from './TransformRunner';

/** Choices that skip the QuickPicks: used by recipes, code actions and tests. */
export interface QuantizeChoices {
  readonly method: QuantizeMethod;
  readonly bits: 8 | 4 | 3;
  readonly format: QuantizeFormat;
  readonly group?: number;
  readonly layers?: readonly string[];
  readonly calibrationFile?: string;
}

interface Option<T> extends vscode.QuickPickItem {
  readonly value: T;
}

function fmt(v: number | null | undefined): string {
  return v === null || v === undefined ? '–' : v.toExponential(1);
}

/** One layer's figures for the QuickPick: its outliers and sensitivity when a calibration exists. */
function describe(l: QuantizableLayer, cal: LayerProfile | undefined): string {
  const size = `${l.inFeatures}×${l.outFeatures}`;
  if (!cal) return `${l.opType} ${size}`;
  const int4 = cal.sensitivity?.candidates.find((c) => c.id === 'int4-g128')?.relativeError;
  return `${l.opType} ${size} · act. outliers ${cal.outliers.int8} · difficulty ${cal.difficulty?.toFixed(1) ?? '–'} · INT4 g128 err ${fmt(int4)}${cal.rank ? ` · rank ${cal.rank}` : ''}`;
}

/**
 * "Quantize Layer…": QuickPicks for the layers, the method, the bits and output format, and the
 * calibration source; then the job in the worker with progress and cancel; then the diff of the
 * model's text before and after, with the report beside it.
 */
export class QuantizeFlow {
  constructor(private readonly worker: WorkerClient, private readonly profiles: ProfileService, private readonly runner: TransformRunner) {}

  /** Runs the flow for `model`; `preselect` names layers to tick first (from the layer table). */
  async run(model: vscode.Uri, preselect: readonly string[] = [], given?: QuantizeChoices): Promise<QuantizeReport | undefined> {
    if (!model.fsPath.toLowerCase().endsWith('.onnx')) {
      void vscode.window.showWarningMessage('Quantscope quantizes ONNX models and writes ONNX that ONNX Runtime runs. Export this checkpoint to ONNX first.');
      return undefined;
    }
    const choices = given ?? (await this.ask(model, preselect));
    if (!choices) return undefined;
    const params: QuantizeParams = {
      path: model.fsPath,
      method: choices.method,
      bits: choices.bits,
      format: choices.format,
      ...(choices.group ? { group: choices.group } : {}),
      ...(choices.layers?.length ? { layers: choices.layers } : {}),
      calibration: {
        samples: vscode.workspace.getConfiguration('quantscope').get<number>('calibration.samples', 32),
        sequenceLength: vscode.workspace.getConfiguration('quantscope').get<number>('calibration.sequenceLength', 128),
        ...(choices.calibrationFile ? { file: choices.calibrationFile } : {}),
      },
    };
    const name = path.basename(model.fsPath);
    const report = await this.runner.run(`Quantizing ${name}`, (token, onProgress) => this.worker.request('quantize', params, { token, onProgress }));
    if (!report) return undefined;
    const worst = report.validation.outputs.reduce((m, o) => Math.max(m, o.relativeL2), 0);
    await this.runner.show(model, report.output, renderReportMarkdown(report), `Wrote ${path.basename(report.output)}: ${(report.sizes.outputBytes / 2 ** 20).toFixed(1)} MiB (from ${(report.sizes.sourceBytes / 2 ** 20).toFixed(1)}), output relative L2 error ${worst.toExponential(2)}.`);
    return report;
  }

  private async ask(model: vscode.Uri, preselect: readonly string[]): Promise<QuantizeChoices | undefined> {
    const title = `Quantize ${path.basename(model.fsPath)}`;
    const layers = await this.worker.request('quantizableLayers', { path: model.fsPath });
    if (!layers.length) {
      void vscode.window.showWarningMessage(`${path.basename(model.fsPath)} has no MatMul or Gemm with a constant 2-D weight to quantize.`);
      return undefined;
    }
    const calibration = (await this.profiles.cachedModel(model))?.profile.layers;
    const byLayer = new Map(calibration?.map((l) => [l.layer, l]));
    const layerItems: Option<string>[] = layers.map((l) => ({ label: l.layer, description: describe(l, byLayer.get(l.layer)), value: l.layer, picked: preselect.length ? preselect.includes(l.layer) || preselect.includes(l.weight) : true }));
    const pickedLayers = await vscode.window.showQuickPick(layerItems, { title: `${title} (1/4): layers`, canPickMany: true, placeHolder: calibration ? 'Layers with their activation outliers and sensitivity' : 'Run Calibrate first to see each layer\'s outliers and sensitivity here', matchOnDescription: true });
    if (!pickedLayers?.length) return undefined;

    const method = await vscode.window.showQuickPick<Option<QuantizeMethod>>(
      [
        { label: 'RTN', description: 'round to nearest, as ONNX QuantizeLinear rounds', value: 'rtn' },
        { label: 'GPTQ', description: 'second-order error compensation with H = XᵀX from calibration (Frantar et al. 2022)', value: 'gptq' },
      ],
      { title: `${title} (2/4): method` },
    );
    if (!method) return undefined;

    const format = await vscode.window.showQuickPick<Option<{ bits: 8 | 4; format: QuantizeFormat }>>(
      [
        { label: 'INT4 MatMulNBits', description: 'com.microsoft::MatMulNBits: 4-bit weights, the fast path on CPU', value: { bits: 4, format: 'nbits' } },
        { label: 'INT8 dynamic W8A8', description: 'weights INT8, activations quantized at run time', value: { bits: 8, format: 'dynamic' } },
        { label: 'INT8 weight-only', description: 'DequantizeLinear before each MatMul: smaller file, float compute', value: { bits: 8, format: 'qdq' } },
      ],
      { title: `${title} (3/4): bits and output format` },
    );
    if (!format) return undefined;

    let group: number | undefined;
    if (format.value.bits === 4) {
      const g = await vscode.window.showQuickPick<Option<number>>(
        [128, 64, 32].map((n) => ({ label: `Block ${n}`, description: n === 128 ? 'the usual choice' : 'finer scales, larger file', value: n })),
        { title: `${title}: block size along the input axis` },
      );
      if (!g) return undefined;
      group = g.value;
    }

    let calibrationFile: string | undefined;
    if (method.value === 'gptq') {
      const source = await vscode.window.showQuickPick<Option<'generated' | 'file'>>(
        [
          { label: 'Generated inputs', description: 'from the declared input shapes; the report marks them synthetic', value: 'generated' },
          { label: 'Calibration file…', description: '.npy / .npz per input name, or a folder of ONNX .pb test data', value: 'file' },
        ],
        { title: `${title} (4/4): calibration data` },
      );
      if (!source) return undefined;
      if (source.value === 'file') {
        const f = await vscode.window.showOpenDialog({ title: 'Calibration data', canSelectFolders: true, defaultUri: vscode.Uri.file(path.dirname(model.fsPath)), filters: { 'Calibration data': ['npy', 'npz', 'pb'] } });
        if (!f?.[0]) return undefined;
        calibrationFile = f[0].fsPath;
      }
    }
    return {
      method: method.value,
      bits: format.value.bits,
      format: format.value.format,
      ...(group ? { group } : {}),
      ...(pickedLayers.length < layers.length ? { layers: pickedLayers.map((p) => p.value) } : {}),
      ...(calibrationFile ? { calibrationFile } : {}),
    };
  }
}
