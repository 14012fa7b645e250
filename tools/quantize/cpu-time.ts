/**
 * CPU milliseconds per item of ONNX models side by side, for comparing a network's float and int8
 * forms on a machine other jobs share: one intra-op thread, `all` optimisation, batch 1, alternating
 * rounds and the median round (process CPU time, which a queue for the cores does not inflate).
 */
import * as ort from 'onnxruntime-node';

const RUNS_PER_ROUND = 10;

export const openSession = (bytes: Uint8Array): Promise<ort.InferenceSession> => ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, graphOptimizationLevel: 'all' });

/** CPU ms of one run of each model on `item` (`dims` with the batch), median over `rounds` alternating rounds. */
export async function cpuTimes(models: readonly Uint8Array[], item: Float32Array, dims: readonly number[], rounds: number): Promise<number[]> {
  const sessions = await Promise.all(models.map(openSession));
  const feeds = (s: ort.InferenceSession) => ({ [s.inputNames[0]]: new ort.Tensor('float32', item, [...dims]) });
  const times = sessions.map((): number[] => []);
  for (const s of sessions) for (let i = 0; i < 3; i++) await s.run(feeds(s));
  for (let round = 0; round < rounds; round++) {
    for (const [i, s] of sessions.entries()) {
      const before = process.cpuUsage();
      for (let run = 0; run < RUNS_PER_ROUND; run++) await s.run(feeds(s));
      const used = process.cpuUsage(before);
      times[i].push((used.user + used.system) / 1000 / RUNS_PER_ROUND);
    }
  }
  await Promise.all(sessions.map((s) => s.release()));
  return times.map((list) => list.sort((a, b) => a - b)[list.length >> 1]);
}
