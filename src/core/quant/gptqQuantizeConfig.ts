/**
 * The settings a GPTQ checkpoint declares, as Transformers reads them from `config.json`'s
 * `quantization_config` and AutoGPTQ / GPTQModel from `quantize_config.json`.
 */

/** What was quantized and how. */
export interface GptqSettings {
  readonly bits: 4 | 8;
  /** −1 for one scale per output channel. */
  readonly groupSize: number;
  readonly symmetric: boolean;
  readonly actOrder: boolean;
  readonly damping: number;
  /** Who wrote it, recorded under `meta.quantizer`. */
  readonly quantizer: string;
}

/**
 * The `quantization_config` object. `checkpoint_format: "gptq"` is AutoGPTQ's v1 layout (zero
 * points stored minus one), the one Transformers' loaders expect. With act-order the groups are
 * still contiguous runs of input channels (`static_groups`), so `g_idx` is ⌊i / group_size⌋ and
 * loaders need no reordering. `true_sequential` is false: every layer's Hessian is measured on
 * the unquantized model. `lm_head: false`: the output head stays in float.
 */
export function gptqQuantizationConfig(s: GptqSettings): Record<string, unknown> {
  return {
    quant_method: 'gptq',
    bits: s.bits,
    group_size: s.groupSize,
    damp_percent: s.damping,
    desc_act: s.actOrder,
    static_groups: s.actOrder,
    sym: s.symmetric,
    true_sequential: false,
    lm_head: false,
    checkpoint_format: 'gptq',
    meta: { quantizer: [s.quantizer] },
  };
}
