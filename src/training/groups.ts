/** The indices of each label's entries (a person's rows), groups in order of first appearance. */
export function groupIndices(labels: readonly string[]): number[][] {
  const groups = new Map<string, number[]>();
  labels.forEach((label, i) => {
    const group = groups.get(label);
    if (group) group.push(i);
    else groups.set(label, [i]);
  });
  return [...groups.values()];
}
