/** Serving memory: a decoder's architecture from any source, and what it needs to serve. */
export { openArchitecture, openModel, type OpenedModel } from './openArchitecture';
export { readConfigArchitecture } from './readConfigArchitecture';
export { readGgufArchitecture } from './readGgufArchitecture';
export { readOnnxArchitecture } from './readOnnxArchitecture';
export { weightInventory } from './weightInventory';
export { weightCost } from './weightCosts';
export { kvPerLayer, kvSequenceBytes, blockTokens, KV_ELEMENT_BYTES } from './kvCache';
export { activationEstimate } from './activationEstimate';
export { planMemory, defaultMemorySettings, CURVE_BATCHES, FALLBACK_CONTEXT } from './planMemory';
export { analyzeExperts, type ExpertAnalysisContext } from './analyzeExperts';
export { findExperts, type ExpertLayout } from './findExperts';
export { expertHeatmap, type ProfiledTensor } from './expertHeatmap';
