// Whose a file in a mirrored or chowned tmpfs volume is on the host. An ID-mapped mount
// (Linux ≥ 6.3) shows a file owned by host ID h as h inside the vNode when h is below
// the range's size (the vNode maps 0..size-1 to start..start+size-1); without one, the
// file itself has to be owned by start+h for the vNode to see h.

export interface IdRange {
  start: number;
  size: number;
}

/**
 * The host ID that shows inside the vNode as `hostId` shows through an ID-mapped mount.
 * IDs already in the range are kept (a volume chowned before, or by another container
 * of the pod); IDs the vNode cannot map are kept too, and show as nobody, as they do
 * through an ID-mapped mount.
 */
export function vnodeOwner(hostId: number, r: IdRange): number {
  if (hostId >= r.start && hostId < r.start + r.size) return hostId;
  if (hostId >= 0 && hostId < r.size) return r.start + hostId;
  return hostId;
}
