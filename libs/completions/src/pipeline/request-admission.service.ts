import { Injectable } from '@nestjs/common';
import { type LimitTicket, ModelAccess, RequestLimiter } from '@app/auth';
import { GatewayError } from '@app/contracts';
import type { RoutePlan } from '@app/providers';
import { GatewayEvents } from '@app/usage';
import { ModelResolver } from '../catalog';
import type { RequestContext } from './request-context';

export interface Admitted {
  plan: RoutePlan;
  ticket: LimitTicket;
}

/**
 * The steps every generation takes before it reaches a provider: resolve the
 * model, check the key may use it, take its place within the rate limits and
 * budgets, and announce it.
 */
@Injectable()
export class RequestAdmission {
  constructor(
    private readonly resolver: ModelResolver,
    private readonly access: ModelAccess,
    private readonly limiter: RequestLimiter,
    private readonly events: GatewayEvents,
  ) {}

  resolve(model: string, ctx: RequestContext): RoutePlan {
    const plan = this.resolver.resolve(model);
    this.assertAllowed(plan, ctx);
    return plan;
  }

  /**
   * Resolves, checks access and takes the request's place within its limits: at once
   * when the limits are decided in this process (see `RequestLimiter.admitNow`), with
   * a promise only when Redis or the database must be asked. Refusals are thrown;
   * `checkPlan` may refuse the request for its plan before any limit is taken.
   */
  admitNow(
    model: string,
    estimatedTokens: number,
    ctx: RequestContext,
    checkPlan?: (plan: RoutePlan) => void,
  ): Admitted | Promise<Admitted> {
    const plan = this.resolve(model, ctx);
    checkPlan?.(plan);
    const ticket = this.limiter.admitNow(ctx.principal, estimatedTokens);
    return ticket instanceof Promise
      ? ticket.then((t) => this.admitted(plan, t, ctx))
      : this.admitted(plan, ticket, ctx);
  }

  private admitted(plan: RoutePlan, ticket: LimitTicket, ctx: RequestContext): Admitted {
    if (this.events.wanted) {
      this.events.emit({
        type: 'generation_started',
        at: ctx.startedAt.toISOString(),
        requestId: ctx.requestId,
        data: { model: plan.requested, route: plan.alias, endpoint: ctx.endpoint, teamId: ctx.principal.teamId },
      });
    }
    return { plan, ticket };
  }

  /** A route is usable by name, or when the key may use every model behind it. */
  private assertAllowed(plan: RoutePlan, ctx: RequestContext): void {
    const principal = ctx.principal;
    if (this.access.isAllowed(principal, plan.requested)) return;
    const canonical = plan.targets.map((t) => `${t.provider}/${t.model}`);
    if (this.access.isAllowedVia(principal, plan.requested, canonical)) return;
    throw new GatewayError('model_not_allowed', `This API key is not allowed to use model "${plan.requested}".`, {
      param: 'model',
    });
  }
}
