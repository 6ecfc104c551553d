// Runs llama.cpp (node-llama-cpp's prebuilt CPU library, never built or downloaded) on GGUF files
// and prints the next-token logits after each prompt as JSON. A child process, so that a native
// abort inside llama.cpp fails the test instead of killing the test runner.
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
    const input = prompt.map((t, i) => (i === prompt.length - 1 ? [t, { generateNext: { logits: true } }] : t));
    const evaluated = await sequence.controlledEvaluate(input);
    const logits = evaluated[prompt.length - 1]?.next?.logits;
    if (!logits) throw new Error('llama.cpp returned no logits');
    const row = [];
    for (const [token, value] of logits) row[token] = value;
    results.push(row);
  }
  out.models.push({ logits: results });
  await context.dispose();
  await model.dispose();
}
await llama.dispose();
process.stdout.write(JSON.stringify(out));
