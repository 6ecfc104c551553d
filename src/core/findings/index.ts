// The findings engine: per-layer conclusions from profiles, with the fix each recommends.
export { adviseLayers, printAdviceRecipe, type AdvisedLayer } from './adviceRecipe';
export { deriveFindings, type FindingsInput } from './deriveFindings';
export { DEFAULT_FINDING_THRESHOLDS, FINDING_THRESHOLD_HELP, resolveThresholds } from './findingThresholds';
export { fixLabel } from './findingText';
export { fixJob, planChoiceOf, PRECISION_ORDER, type FixJob } from './fixChoices';
export { recipeConflicts, type RecipeConflict } from './recipeConflicts';
export { sharedWeights } from './sharedWeights';
export { suggestAlpha, type AlphaSuggestion } from './suggestAlpha';
