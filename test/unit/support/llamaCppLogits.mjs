// Runs llama.cpp (node-llama-cpp's prebuilt CPU library, never built or downloaded) on GGUF files
// and prints the next-token log-probabilities after each prompt as JSON: the logits up to a
// constant per prompt (node-llama-cpp 3.21 hands out the sampler's probabilities, not the logits;
// at temperature 1 with top-k, top-p and min-p off they are the softmax of every logit). A child
// process, so that a native abort inside llama.cpp fails the test instead of killing the runner.
//   node llamaCppLogits.mjs '{"models": ["a.gguf"], "prompts": [[1, 5, 9]]}'
import { getLlama } from 'node-llama-cpp';

const { models, prompts } = JSON.parse(process.argv[2]);
const llama = await getLlama({ gpu: false, build: 'never', usePrebuiltBinaries: true, skipDownload: true, progressLogs: false, logLevel: 'error' });
const out = { buildType: llama.buildType, gpu: llama.gpu, models: [] };
for (const modelPath of models) {
  const model = await llama.loadModel({ modelPath, useMmap: false });
  const context = await model.createContext({ contextSize: 64, batchSize: 64, threads: 1 });
  const sequence = context.getSequence();
  const results = [];
  for (const prompt of prompts) {
    await sequence.clearHistory();
    const all = { temperature: 1, topK: 0, topP: 1, minP: 0 };
    const input = prompt.map((t, i) => (i === prompt.length - 1 ? [t, { generateNext: { probabilities: true, options: all } }] : t));
    const evaluated = await sequence.controlledEvaluate(input);
    const probabilities = evaluated[prompt.length - 1]?.next?.probabilities;
    if (!probabilities) throw new Error('llama.cpp returned no probabilities');
    const row = [];
    // A probability that underflowed to 0 keeps the log finite (float32's smallest).
    for (const [token, p] of probabilities) row[token] = Math.log(Math.max(p, 1e-45));
    results.push(row);
  }
  out.models.push({ logits: results });
  await context.dispose();
  await model.dispose();
}
await llama.dispose();
process.stdout.write(JSON.stringify(out));
