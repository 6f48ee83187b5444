//! Customer tiers (客户分类管理): recomputed per statistical period (a calendar year) from
//! objective data only — the customer's completed jobs and the extra payments due on them — by
//! thresholds the organisation sets: the three default tiers (key, regular, prospect), or one to
//! five stars. Every period's result is kept; a closed period is computed by itself early in the
//! next.

pub mod periods;
pub mod rules;

pub use periods::{
    PeriodTier, close_periods, close_periods_once, history, recompute, recompute_period,
};
pub use rules::TierRules;
