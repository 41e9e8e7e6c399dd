using System;

namespace Fillbook.Exporter
{
    /// <summary>
    /// Platform enum names (passed as their ToString()) to the contract's words. Matching by
    /// name keeps the library free of platform SDKs, so the mapping is compiled and tested here.
    /// </summary>
    public static class ContractNames
    {
        /// <summary>Quantower Side / NinjaTrader OrderAction or MarketPosition to buy/sell.</summary>
        public static string Side(string platformName)
        {
            switch (Normalize(platformName))
            {
                case "buy":
                case "buytocover":
                case "long":
                    return "buy";
                case "sell":
                case "sellshort":
                case "short":
                    return "sell";
                default:
                    throw new ArgumentException("unknown side '" + platformName + "'");
            }
        }

        /// <summary>
        /// Quantower OrderStatus / NinjaTrader OrderState to the contract's status. Transitional
        /// states (pending submit, change, cancel) count as working: the order is live.
        /// </summary>
        public static string OrderStatus(string platformName)
        {
            switch (Normalize(platformName))
            {
                case "initialized":
                case "submitted":
                case "unspecified":
                case "new":
                case "pendingnew":
                    return "new";
                case "opened":
                case "open":
                case "accepted":
                case "working":
                case "triggerpending":
                case "changepending":
                case "changesubmitted":
                case "cancelpending":
                case "cancelsubmitted":
                case "modifying":
                    return "working";
                case "partfilled":
                case "partiallyfilled":
                    return "partially_filled";
                case "filled":
                    return "filled";
                case "cancelled":
                case "canceled":
                    return "cancelled";
                case "refused":
                case "rejected":
                    return "rejected";
                case "expired":
                    return "expired";
                default:
                    throw new ArgumentException("unknown order status '" + platformName + "'");
            }
        }

        /// <summary>
        /// Quantower OrderTypeBehavior / NinjaTrader OrderType to the contract's order_type.
        /// Trailing stops are stops whose price moves; market-if-touched is a market order once
        /// triggered, recorded as a stop on its trigger price.
        /// </summary>
        public static string OrderType(string platformName)
        {
            switch (Normalize(platformName))
            {
                case "market":
                    return "market";
                case "limit":
                    return "limit";
                case "stop":
                case "stopmarket":
                case "trailingstop":
                case "mit":
                case "marketiftouched":
                    return "stop";
                case "stoplimit":
                    return "stop_limit";
                default:
                    throw new ArgumentException("unknown order type '" + platformName + "'");
            }
        }

        /// <summary>Time in force names to the contract's lower-case tif (null when unknown).</summary>
        public static string TimeInForce(string platformName)
        {
            string name = Normalize(platformName);
            switch (name)
            {
                case "day": return "day";
                case "gtc": return "gtc";
                case "ioc": return "ioc";
                case "fok": return "fok";
                case "gtd": return "gtd";
                case "": return null;
                case "default": return null;
                default: return name;
            }
        }

        /// <summary>NinjaTrader's Cbi.Operation of an execution update to the contract's op.</summary>
        public static string ExecutionOperation(string platformName)
        {
            switch (Normalize(platformName))
            {
                case "add": return "new";
                case "update": return "amend";
                case "remove": return "remove";
                default:
                    throw new ArgumentException("unknown execution operation '" + platformName + "'");
            }
        }

        private static string Normalize(string name)
        {
            if (name == null) return "";
            return name.Replace("_", "").Replace(" ", "").ToLowerInvariant();
        }
    }
}
