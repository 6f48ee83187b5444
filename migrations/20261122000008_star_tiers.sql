-- Organisations may rank customers with one to five stars instead of the three default tiers
-- (客户分类管理). The scheme and its thresholds live with the other tier rules; customers with at
-- least a set number of stars get the scheduled revisits that key customers get.

alter table customers drop constraint customers_tier_check;
alter table customers add constraint customers_tier_check check (tier in (
    'key', 'regular', 'prospect', 'stars_1', 'stars_2', 'stars_3', 'stars_4', 'stars_5'));

alter table customer_tiers drop constraint customer_tiers_tier_check;
alter table customer_tiers add constraint customer_tiers_tier_check check (tier in (
    'key', 'regular', 'prospect', 'stars_1', 'stars_2', 'stars_3', 'stars_4', 'stars_5'));

-- The thresholds for two, three, four and five stars: a customer has the most stars whose spend
-- or job-count threshold the period reaches, one star otherwise.
alter table tier_rules
    add column scheme text not null default 'three_tiers' check (scheme in ('three_tiers', 'stars')),
    add column star_min_spend_minor bigint[] not null default '{100000, 300000, 600000, 1000000}'
        check (cardinality(star_min_spend_minor) = 4 and array_position(star_min_spend_minor, null) is null),
    add column star_min_jobs integer[] not null default '{1, 3, 6, 10}'
        check (cardinality(star_min_jobs) = 4 and array_position(star_min_jobs, null) is null);

alter table revisit_policies
    add column scheduled_min_stars integer not null default 5 check (scheduled_min_stars between 1 and 5);
