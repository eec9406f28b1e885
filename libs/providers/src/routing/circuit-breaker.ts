export type CircuitState = 'closed' | 'open' | 'half-open';

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. */
  failureThreshold: number;
  /** How long an open circuit rejects calls before one probe is let through. */
  cooldownMs: number;
  now?: () => number;
}

/** A state change, for events, metrics and sharing with other replicas. */
export interface CircuitTransition {
  provider: string;
  state: CircuitState;
  /** When an open circuit will let a probe through (epoch ms). */
  openUntil?: number;
}

/**
 * A call {@link CircuitBreakers.tryAcquire} let through, to hand back with its
 * outcome: whether it is a half-open circuit's probe, and of which opening. Only
 * that probe decides a half-open circuit: any other call then in flight was placed
 * before the circuit opened, and its outcome says nothing about now.
 */
export interface CircuitTicket {
  readonly probe: boolean;
  /** The circuit's opening the probe was let through in (see `Circuit.openings`). */
  readonly opening: number;
}

/** The ticket of every call through a closed circuit (one object: nothing to allocate per call). */
const PASS: CircuitTicket = { probe: false, opening: -1 };

interface Circuit {
  state: CircuitState;
  failures: number;
  openUntil: number;
  probeInFlight: boolean;
  /** How many times it opened (here or, as told, on another replica): tells a probe from an earlier one's. */
  openings: number;
}

/**
 * One breaker per provider: closed until `failureThreshold` consecutive failures,
 * then open (calls skipped) for `cooldownMs`, then half-open: a single probe call
 * decides between closed (success) and open again (failure); the outcomes of calls
 * placed before the circuit opened decide nothing (each call's {@link CircuitTicket}
 * says which it is). All in memory, so the request path never waits on a store;
 * `applyRemote` takes transitions observed by other replicas.
 */
export class CircuitBreakers {
  private readonly circuits = new Map<string, Circuit>();
  private readonly listeners = new Set<(transition: CircuitTransition) => void>();
  private readonly now: () => number;

  constructor(private readonly options: CircuitBreakerOptions) {
    this.now = options.now ?? Date.now;
  }

  /**
   * May a call go to `provider` now? Its ticket, to hand back with its outcome, or
   * `undefined`. Claims the half-open probe when it is due.
   */
  tryAcquire(provider: string): CircuitTicket | undefined {
    const circuit = this.circuits.get(provider);
    if (!circuit || circuit.state === 'closed') return PASS;
    if (circuit.state === 'open') {
      if (this.now() < circuit.openUntil) return undefined;
      this.set(provider, circuit, 'half-open');
    }
    if (circuit.probeInFlight) return undefined;
    circuit.probeInFlight = true;
    return { probe: true, opening: circuit.openings };
  }

  /** Gives back a probe claimed by `tryAcquire` that was never used (the call did not happen, or decided nothing). */
  release(provider: string, ticket: CircuitTicket): void {
    const circuit = this.circuits.get(provider);
    if (circuit && isProbeOf(circuit, ticket)) circuit.probeInFlight = false;
  }

  /**
   * A call succeeded. Through a closed circuit it clears the failures; only the
   * half-open probe closes a circuit: a success of any other call comes from one
   * placed before it opened (here or, for a circuit opened by another replica,
   * anywhere) and says nothing about now.
   */
  recordSuccess(provider: string, ticket: CircuitTicket): void {
    const circuit = this.circuits.get(provider);
    if (!circuit) return;
    if (circuit.state === 'closed') {
      circuit.failures = 0;
    } else if (circuit.state === 'half-open' && isProbeOf(circuit, ticket)) {
      circuit.failures = 0;
      circuit.probeInFlight = false;
      this.set(provider, circuit, 'closed');
    }
  }

  /**
   * A stream's first chunk arrived; whether it answers is known at its end. The
   * probe of a half-open circuit closes it at once, so traffic resumes without
   * waiting for a long stream, but on probation: until a call succeeds, one
   * failure (this stream's, if it dies mid-way) opens it again.
   */
  recordStarted(provider: string, ticket: CircuitTicket): void {
    const circuit = this.circuits.get(provider);
    if (!circuit || circuit.state !== 'half-open' || !isProbeOf(circuit, ticket)) return;
    circuit.failures = Math.max(circuit.failures, this.options.failureThreshold - 1);
    circuit.probeInFlight = false;
    this.set(provider, circuit, 'closed');
  }

  /**
   * A call failed. Through a closed circuit it counts toward opening it; the
   * half-open probe's failure opens it again; any other call's is from before
   * the circuit opened, and decides nothing.
   */
  recordFailure(provider: string, ticket: CircuitTicket): void {
    const circuit = this.circuits.get(provider) ?? this.create(provider);
    if (circuit.state === 'closed') {
      if (++circuit.failures < this.options.failureThreshold) return;
    } else if (circuit.state === 'half-open' && isProbeOf(circuit, ticket)) {
      circuit.failures++;
      circuit.probeInFlight = false;
    } else {
      return;
    }
    circuit.openUntil = this.now() + this.options.cooldownMs;
    this.set(provider, circuit, 'open');
  }

  /**
   * Forgets the provider's circuit: its configuration changed or it was deleted, so
   * what failed was another upstream. Listeners hear `closed` when it was not.
   */
  reset(provider: string): void {
    const circuit = this.circuits.get(provider);
    if (!circuit) return;
    if (circuit.state !== 'closed') this.set(provider, circuit, 'closed');
    this.circuits.delete(provider);
  }

  state(provider: string): CircuitState {
    const circuit = this.circuits.get(provider);
    if (!circuit) return 'closed';
    if (circuit.state === 'open' && this.now() >= circuit.openUntil) return 'half-open';
    return circuit.state;
  }

  states(): Record<string, CircuitState> {
    return Object.fromEntries([...this.circuits.keys()].map((p) => [p, this.state(p)]));
  }

  /** Applies a transition another replica published; does not notify listeners again. */
  applyRemote(transition: CircuitTransition): void {
    const circuit = this.circuits.get(transition.provider) ?? this.create(transition.provider);
    if (transition.state === 'open') {
      if (circuit.state !== 'open') circuit.openings++;
      circuit.state = 'open';
      circuit.openUntil = Math.max(circuit.openUntil, transition.openUntil ?? this.now() + this.options.cooldownMs);
    } else if (transition.state === 'closed') {
      circuit.state = 'closed';
      circuit.failures = 0;
      circuit.openUntil = 0;
    }
    circuit.probeInFlight = false;
  }

  onTransition(listener: (transition: CircuitTransition) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private create(provider: string): Circuit {
    const circuit: Circuit = { state: 'closed', failures: 0, openUntil: 0, probeInFlight: false, openings: 0 };
    this.circuits.set(provider, circuit);
    return circuit;
  }

  private set(provider: string, circuit: Circuit, state: CircuitState): void {
    if (state === 'open') circuit.openings++;
    circuit.state = state;
    const transition: CircuitTransition = {
      provider,
      state,
      openUntil: state === 'open' ? circuit.openUntil : undefined,
    };
    for (const listener of this.listeners) listener(transition);
  }
}

/** Whether `ticket` is the probe of the circuit's current opening. */
function isProbeOf(circuit: Circuit, ticket: CircuitTicket): boolean {
  return ticket.probe && ticket.opening === circuit.openings;
}
