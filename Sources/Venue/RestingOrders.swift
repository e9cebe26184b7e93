import ExitBrainDomain
import Foundation

/// The orders a plan wants resting at the venue (docs/contract.md §11, `EXIT_ORDERS=VENUE`):
/// its pending SL as a stop-market order for everything that remains, and each pending TP as a
/// take-profit-market order for what is left of its leg, each reduce-only, on the venue's tick
/// and step, with the leg's deterministic client order id.
///
/// The TPs never sum to more than the position: each is truncated to the step, and when no
/// trailing runner keeps a share of its own the last pending TP takes exactly what the others
/// leave. A leg the step leaves empty is not placed.
public enum RestingOrders {
    /// The requests, SL first (protection before profit).
    public static func desired(for plan: ExitPlan, rules: SymbolRules) -> [OrderRequest] {
        guard plan.isActive else { return [] }
        let remaining = rules.quantity(Decimal(rounding: plan.remainingQuantity))
        guard remaining > 0 else { return [] }
        let exitSide = plan.side.exitOrderSide
        var out: [OrderRequest] = []
        if let sl = plan.legs.first(where: { $0.kind == .stopLoss && $0.status == .pending }) {
            out.append(
                OrderRequest(
                    clientOrderId: sl.clientOrderId, symbol: plan.symbol, side: exitSide, positionSide: plan.side, purpose: .exit,
                    type: .stopMarket, quantity: remaining, triggerPrice: rules.stopTrigger(Decimal(rounding: sl.triggerPrice), protecting: plan.side)
                ))
        }
        let takeProfits = plan.legs.filter { $0.kind == .takeProfit && $0.status == .pending }
        let runnerKeepsShare = plan.legs.contains { $0.kind == .trail && $0.status == .pending && $0.quantity > 0 }
        var left = remaining
        for (n, leg) in takeProfits.enumerated() {
            let open = max(0, leg.quantity - (leg.filledQuantity ?? 0))
            var quantity = min(left, rules.quantity(Decimal(rounding: open)))
            if n == takeProfits.count - 1, !runnerKeepsShare { quantity = left }
            left -= quantity
            guard quantity > 0 else { continue }
            out.append(
                OrderRequest(
                    clientOrderId: leg.clientOrderId, symbol: plan.symbol, side: exitSide, positionSide: plan.side, purpose: .exit,
                    type: .takeProfitMarket, quantity: quantity,
                    triggerPrice: rules.takeProfitTrigger(Decimal(rounding: leg.triggerPrice), for: plan.side)))
        }
        return out
    }

    /// The leg a request is for, by client order id.
    public static func legIndex(of clientOrderId: String, in plan: ExitPlan) -> Int? {
        plan.legs.first { $0.clientOrderId == clientOrderId }?.index
    }
}
