/** Llama-family decoders: read weights and config from any supported source, build an ONNX graph. */
export { buildDecoder, decoderBuildBytes, kvCacheNames, DECODER_OPSET, type BuildDecoderOptions } from './buildDecoder';
export { DECODER_FAMILIES, type DecoderConfig, type DecoderFamily, type RopeScaling } from './DecoderConfig';
export { CheckpointDecoderSource, type DecoderSource } from './DecoderSource';
export { openDecoderSource } from './openDecoderSource';
export { readHfConfig } from './readHfConfig';
export { readMetaParams } from './readMetaParams';
export { readGgufConfig } from './readGgufConfig';
export { ropeFrequencies } from './ropeFrequencies';
