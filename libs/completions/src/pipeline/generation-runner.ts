import { Injectable } from '@nestjs/common';
import type { LimitTicket } from '@app/auth';
import { GatewayError, headerValue, withFields } from '@app/contracts';
import { CLIENT_CLOSED_REQUEST, isClientAbort, RouteFailure, type RoutePlan, type RouteTarget } from '@app/providers';
import { GatewayMetrics, type TokenUsage } from '@app/usage';
import { OutcomeReporter } from './outcome-reporter';
import type { RequestContext } from './request-context';
import { type Admitted, RequestAdmission } from './request-admission.service';
import { RoutingService } from './routing.service';
import { type ChunkReader, relayStream } from './stream-relay';
import { NO_USAGE } from './token-usage';

/** A stream whose first chunk has arrived: falling back is no longer possible after this. */
export interface OpenedStream<T> {
  first: T | undefined;
  rest: AsyncIterator<T>;
  ttftMs: number;
}

/** What every call spec says before its provider calls: the model asked for, the tokens it may take. */
interface CallAdmission {
  model: string;
  estimatedTokens: number;
  /**
   * The prompt's tokens as estimated: what is recorded for a request whose client left
   * while an upstream had it (the upstream bills the prompt it read), and for a stream
   * cut short whose upstream reported no usage.
   */
  promptEstimate: number;
  /** Refuses the request for its plan (by throwing) before it takes its place within the limits. */
  checkPlan?: (plan: RoutePlan) => void;
}

export interface JsonCall<T> extends CallAdmission {
  call: (target: RouteTarget) => Promise<T>;
  usage: (value: T) => TokenUsage;
  modelServed: (value: T) => string | undefined;
  /** The answer as the client gets it, given the usage recorded (an answer without usage is told the estimate). */
  answer?: (value: T, usage: TokenUsage) => T;
}

export interface StreamCall<T> extends CallAdmission {
  includeUsage: boolean;
  open: (target: RouteTarget) => Promise<OpenedStream<T>>;
  reader: ChunkReader<T>;
}

/** Response headers naming who answered, with the rate-limit headers. */
export function answerHeaders(target: RouteTarget, fallbacks: number, ticket: LimitTicket): Record<string, string> {
  return withFields(ticket.headers, {
    'x-gateway-provider': headerValue(target.provider),
    'x-gateway-model': headerValue(target.model),
    'x-gateway-fallbacks': String(fallbacks),
  });
}

/**
 * What every generation endpoint does around its provider call: admission
 * (model, access, limits), routing with retries and fallbacks, and the usage
 * report — for answers, failures and abandoned requests alike.
 */
@Injectable()
export class GenerationRunner {
  constructor(
    private readonly admission: RequestAdmission,
    private readonly routing: RoutingService,
    private readonly reporter: OutcomeReporter,
    private readonly metrics: GatewayMetrics,
  ) {}

  async json<T>(ctx: RequestContext, spec: JsonCall<T>): Promise<{ value: T; headers: Record<string, string> }> {
    const ended = this.metrics.requestStarted(ctx.endpoint);
    try {
      // Admitted at once when the limits are decided in this process: one promise less per request.
      const admitting = this.admission.admitNow(spec.model, spec.estimatedTokens, ctx, spec.checkPlan);
      const { plan, ticket } = admitting instanceof Promise ? await admitting : admitting;
      try {
        const outcome = await this.routing.router.execute(plan, ctx.signal, ({ target }) => spec.call(target));
        const usage = spec.usage(outcome.value);
        const modelServed = spec.modelServed(outcome.value);
        this.reporter.reportAfterResponse(
          ctx,
          withFields(outcome, { plan, modelServed, usage, status: 200, stream: false }),
          ticket,
        );
        const value = spec.answer ? spec.answer(outcome.value, usage) : outcome.value;
        return { value, headers: answerHeaders(outcome.target, outcome.fallbacks, ticket) };
      } catch (error) {
        throw this.failed(error, plan, ctx, ticket, false, spec.promptEstimate);
      }
    } finally {
      ended();
    }
  }

  /**
   * Retries and falls back until a first chunk arrives, then hands back the
   * chunks to write; an upstream failure after that is thrown by the generator.
   */
  async stream<T>(
    ctx: RequestContext,
    spec: StreamCall<T>,
  ): Promise<{ headers: Record<string, string>; chunks: AsyncGenerator<T, void, undefined> }> {
    const ended = this.metrics.requestStarted(ctx.endpoint);
    let opened;
    let admitted: Admitted | undefined;
    try {
      const admitting = this.admission.admitNow(spec.model, spec.estimatedTokens, ctx, spec.checkPlan);
      admitted = admitting instanceof Promise ? await admitting : admitting;
      opened = await this.routing.router.executeStream(admitted.plan, ctx.signal, ({ target }) => spec.open(target));
    } catch (error) {
      ended();
      throw admitted ? this.failed(error, admitted.plan, ctx, admitted.ticket, true, spec.promptEstimate) : error;
    }
    const { plan, ticket } = admitted;
    const { target, fallbacks, retries, value, spent } = opened;
    const chunks = relayStream(value.first, value.rest, spec.reader, {
      includeUsage: spec.includeUsage,
      promptEstimate: spec.promptEstimate,
      ctx,
      onEnd: (end, failure) => {
        ended();
        // Only now is it known whether the target answered: a failure after the first chunk counts against it.
        this.routing.router.settle(opened, failure);
        this.reporter.reportAfterResponse(
          ctx,
          { plan, target, fallbacks, retries, ttftMs: value.ttftMs, stream: true, spent, ...end },
          ticket,
        );
      },
    });
    return { headers: answerHeaders(target, fallbacks, ticket), chunks };
  }

  private failed(
    error: unknown,
    plan: RoutePlan,
    ctx: RequestContext,
    ticket: LimitTicket,
    stream: boolean,
    promptEstimate: number,
  ): GatewayError {
    const failure = error instanceof RouteFailure ? error : undefined;
    // The client left while an upstream had the request: that upstream read (and bills) the prompt.
    const usage = isClientAbort(failure?.error) ? withFields(NO_USAGE, { promptTokens: promptEstimate }) : NO_USAGE;
    const gatewayError =
      ctx.interruption ??
      failure?.error ??
      (error instanceof GatewayError ? error : new GatewayError('internal_error', 'Internal error', { cause: error }));
    this.reporter.report(
      ctx,
      {
        plan,
        target: failure?.target,
        usage,
        // Answers the upstreams gave before the request failed (a JSON reply and its repair) were billed.
        spent: failure?.spent,
        status: ctx.clientGone ? CLIENT_CLOSED_REQUEST : gatewayError.status,
        errorCode: ctx.clientGone ? 'client_closed' : gatewayError.code,
        fallbacks: failure?.fallbacks ?? 0,
        retries: failure?.retries ?? 0,
        stream,
      },
      ticket,
    );
    return gatewayError;
  }
}
