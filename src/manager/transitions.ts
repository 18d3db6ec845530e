// State tables: for each named transition, the states it may leave and where each one
// leads. Anything else is an illegal call, answered with a stable error in containerd's
// words ("cannot pause task c1 in state stopped", FailedPrecondition at the Task API).

export type TransitionTable<S extends string, T extends string> = { readonly [K in T]: Readonly<Partial<Record<S, S>>> };

export class IllegalTransitionError extends Error {
  override name = 'IllegalTransitionError';
  readonly code = 'VNODE_ILLEGAL_TRANSITION';
  constructor(
    readonly subject: string,
    readonly transition: string,
    readonly state: string,
    hint?: string,
  ) {
    super(`cannot ${transition} ${subject} in state ${state}${hint ? `: ${hint}` : ''}`);
  }
}

/** Where `transition` leads from `state`, or undefined if it is not allowed there. */
export function target<S extends string, T extends string>(table: TransitionTable<S, T>, state: S, transition: T): S | undefined {
  return table[transition][state];
}

/** Where `transition` leads from `state`; throws IllegalTransitionError naming `subject` if it is not allowed. */
export function next<S extends string, T extends string>(table: TransitionTable<S, T>, subject: string, state: S, transition: T, hint?: string): S {
  const to = table[transition][state];
  if (to === undefined) throw new IllegalTransitionError(subject, transition, state, hint);
  return to;
}
