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

interface Circuit {
  state: CircuitState;
  failures: number;
  openUntil: number;
  probeInFlight: boolean;
}

/**
 * One breaker per provider: closed until `failureThreshold` consecutive failures,
 * then open (calls skipped) for `cooldownMs`, then half-open: a single probe call
 * decides between closed (success) and open again (failure). All in memory, so
 * the request path never waits on a store; `applyRemote` takes transitions
 * observed by other replicas.
 */
export class CircuitBreakers {
  private readonly circuits = new Map<string, Circuit>();
  private readonly listeners = new Set<(transition: CircuitTransition) => void>();
  private readonly now: () => number;

  constructor(private readonly options: CircuitBreakerOptions) {
    this.now = options.now ?? Date.now;
  }

  /** May a call go to `provider` now? Claims the half-open probe when it is due. */
  tryAcquire(provider: string): boolean {
    const circuit = this.circuits.get(provider);
    if (!circuit || circuit.state === 'closed') return true;
    if (circuit.state === 'open') {
      if (this.now() < circuit.openUntil) return false;
      this.set(provider, circuit, 'half-open');
    }
    if (circuit.probeInFlight) return false;
    circuit.probeInFlight = true;
    return true;
  }

  /** Gives back a probe claimed by `tryAcquire` that was never used (the call did not happen). */
  release(provider: string): void {
    const circuit = this.circuits.get(provider);
    if (circuit) circuit.probeInFlight = false;
  }

  /**
   * A call succeeded. Only the half-open probe closes a circuit: a success that
   * arrives while it is open comes from a call placed before it opened (here or,
   * for a circuit opened by another replica, anywhere) and says nothing about now.
   */
  recordSuccess(provider: string): void {
    const circuit = this.circuits.get(provider);
    if (!circuit || circuit.state === 'open') return;
    circuit.failures = 0;
    circuit.probeInFlight = false;
    if (circuit.state === 'half-open') this.set(provider, circuit, 'closed');
  }

  /**
   * A stream's first chunk arrived; whether it answers is known at its end. A
   * half-open circuit closes at once, so traffic resumes without waiting for a
   * long stream, but on probation: until a call succeeds, one failure (this
   * stream's, if it dies mid-way) opens it again.
   */
  recordStarted(provider: string): void {
    const circuit = this.circuits.get(provider);
    if (!circuit || circuit.state !== 'half-open') return;
    circuit.failures = Math.max(circuit.failures, this.options.failureThreshold - 1);
    circuit.probeInFlight = false;
    this.set(provider, circuit, 'closed');
  }

  recordFailure(provider: string): void {
    const circuit = this.circuits.get(provider) ?? this.create(provider);
    circuit.failures++;
    circuit.probeInFlight = false;
    if (
      circuit.state === 'half-open' ||
      (circuit.state === 'closed' && circuit.failures >= this.options.failureThreshold)
    ) {
      circuit.openUntil = this.now() + this.options.cooldownMs;
      this.set(provider, circuit, 'open');
    }
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
    const circuit: Circuit = { state: 'closed', failures: 0, openUntil: 0, probeInFlight: false };
    this.circuits.set(provider, circuit);
    return circuit;
  }

  private set(provider: string, circuit: Circuit, state: CircuitState): void {
    circuit.state = state;
    const transition: CircuitTransition = {
      provider,
      state,
      openUntil: state === 'open' ? circuit.openUntil : undefined,
    };
    for (const listener of this.listeners) listener(transition);
  }
}
