//! The screens: today's jobs, and a job walked in the order of the visit. Server-rendered HTML
//! (maud escapes every value); `ui.js` adds the signature pad, the camera's photos and the
//! refresh when the sync brings something.

use std::sync::atomic::Ordering;

use chrono::{DateTime, FixedOffset, Local, Utc};
use maud::{DOCTYPE, Markup, html};
use sync_protocol::DocumentId;
use sync_protocol::job::{CompletionCondition, JobDocument, JobStatus};

use super::words::{self, Lang};
use super::{SyncState, Ui};
use crate::error::ClientError;
use crate::status::SyncBacklog;
use crate::store::documents::DocumentKind;
use crate::store::uploads::UploadState;
use crate::tablet::Tablet;
use crate::tablet::view::{JobLine, JobView};

/// What every page shows around its main part: the sync state and the form token.
#[derive(Debug)]
pub struct Frame {
    form_token: String,
    generation: u64,
    sync: SyncState,
    changes: usize,
    uploads: usize,
    refused: Vec<(String, String)>,
    last_sync_at: Option<i64>,
}

impl Frame {
    pub fn new(ui: &Ui, backlog: &SyncBacklog) -> Self {
        Self {
            form_token: ui.form_token.clone(),
            generation: ui.generation.load(Ordering::SeqCst),
            sync: super::sync_state(ui),
            changes: backlog.pending_changes.iter().map(|d| d.changes).sum(),
            uploads: backlog.pending_uploads.len(),
            refused: backlog
                .refused_uploads
                .iter()
                .map(|u| {
                    (
                        u.kind.as_str().to_owned(),
                        u.refusal.clone().unwrap_or_default(),
                    )
                })
                .collect(),
            last_sync_at: backlog.last_sync_at,
        }
    }
}

/// The device's own clock: the tablet is where the technician is.
fn clock(millis: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(millis).map_or_else(
        || "—".to_owned(),
        |t| {
            let local: DateTime<FixedOffset> = t.with_timezone(&Local).fixed_offset();
            local.format("%m-%d %H:%M").to_string()
        },
    )
}

fn page(lang: Lang, frame: &Frame, title: &str, back: &str, main: Markup) -> Markup {
    let other = if lang == Lang::Zh { "en" } else { "zh" };
    let online = frame.sync.online;
    let pending = frame.changes + frame.uploads;
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                link rel="stylesheet" href="/assets/ui.css";
                script src="/assets/ui.js" defer {}
            }
            body data-token=(frame.form_token) {
                header.bar {
                    a.home href="/" { (lang.t("今日工单", "Today's jobs")) }
                    div #sync .sync role="status" aria-live="polite" data-online=[online.map(|o| o.to_string())] {
                        span.dot aria-hidden="true" {}
                        span #sync-state {
                            @match (online, &frame.sync.stopped) {
                                (_, Some(_)) if frame.sync.not_logged_in => {
                                    (lang.t("未同步：此平板尚未登录，请向办公室索取设备令牌并登录", "Not syncing: this tablet is not logged in; ask the office for a device token and log in"))
                                }
                                (_, Some(stopped)) => { (lang.t("同步已停止：", "Sync stopped: ")) (stopped) }
                                (Some(true), _) => { (lang.t("在线", "Online")) }
                                (Some(false), _) => { (lang.t("离线：记录保存在本机", "Offline: work is kept on this tablet")) }
                                (None, _) => { (lang.t("正在连接…", "Connecting…")) }
                            }
                        }
                        " · "
                        span #sync-pending {
                            @if pending == 0 && frame.last_sync_at.is_none() {
                                // Never synced: nothing waits, but nothing has reached the office either.
                                (lang.t("没有待送达的记录", "Nothing waiting to be sent"))
                            } @else if pending == 0 {
                                (lang.t("全部已送达办公室", "Everything reached the office"))
                            } @else {
                                (lang.t("未送达：", "Not yet at the office: ")) (frame.changes) (lang.t(" 项改动，", " changes, ")) (frame.uploads) (lang.t(" 个文件", " files"))
                            }
                        }
                        " · "
                        span #sync-last { (lang.t("上次同步 ", "Last sync ")) (frame.last_sync_at.map_or_else(|| "—".to_owned(), clock)) }
                    }
                    a.lang href={ "/language?to=" (other) "&back=" (back) } { (lang.t("English", "中文")) }
                }
                @if !frame.refused.is_empty() {
                    div.refused role="alert" {
                        p { strong { (lang.t("办公室拒收了以下文件，请重新拍摄：", "The office refused these files; take them again:")) } }
                        ul { @for (kind, reason) in &frame.refused { li { (words::file_kind(lang, kind)) ": " (reason) } } }
                    }
                }
                main #main data-generation=(frame.generation) { (main) }
            }
        }
    }
}

/// Jobs stored on this tablet that are no longer on its list (reassigned, archived): still
/// readable.
pub fn other_jobs(
    tablet: &Tablet,
    listed: &[JobLine],
) -> Result<Vec<(DocumentId, JobDocument)>, ClientError> {
    let mut others = Vec::new();
    for id in tablet.store().document_ids(DocumentKind::Job)? {
        if listed.iter().any(|l| l.listed.job_id == id) {
            continue;
        }
        if let Some(doc) = tablet.store().load_document(id)?
            && let Ok(job) = JobDocument::read(&doc)
        {
            others.push((id, job));
        }
    }
    Ok(others)
}

/// For each listed job, whether the office moved its window since it was booked.
pub fn rescheduled(tablet: &Tablet, jobs: &[JobLine]) -> Result<Vec<bool>, ClientError> {
    jobs.iter()
        .map(|line| {
            Ok(tablet
                .store()
                .load_document(line.listed.job_id)?
                .and_then(|doc| JobDocument::read(&doc).ok())
                .is_some_and(|job| job.timeline.iter().any(|e| e.kind == "rescheduled")))
        })
        .collect()
}

pub fn jobs(
    lang: Lang,
    frame: &Frame,
    jobs: &[JobLine],
    rescheduled: &[bool],
    others: &[(DocumentId, JobDocument)],
    no_list: Option<&str>,
) -> Markup {
    let main = html! {
        h1 { (lang.t("今日工单", "Today's jobs")) }
        @if let Some(why) = no_list {
            p.warn role="alert" { (why) }
        } @else if jobs.is_empty() {
            p.empty { (lang.t("没有派给您的工单。", "No jobs assigned to you.")) }
        }
        ul.jobs {
            @for (line, moved) in jobs.iter().zip(rescheduled.iter().chain(std::iter::repeat(&false))) {
                @let job = &line.listed;
                @let cancelled = job.state.as_str() == "cancelled";
                li class={ "job" @if cancelled { " cancelled" } } {
                    a href={ "/jobs/" (job.job_id) } {
                        span.when { (clock(job.window_start.0)) " – " (clock(job.window_end.0).split(' ').nth(1).unwrap_or_default()) }
                        span.number { (job.number.as_deref().unwrap_or_default()) }
                        strong.customer { (job.customer_name) }
                        span.address { (job.address) }
                        span.status {
                            @if cancelled {
                                strong.mark { (lang.t("办公室已取消", "Cancelled by the office")) }
                            } @else {
                                @match line.local_status {
                                    Some(status) => { (words::status(lang, status)) }
                                    None => { (lang.t("尚未下载", "not downloaded yet")) }
                                }
                            }
                            @if *moved && !cancelled {
                                " · " strong.mark { (lang.t("办公室已改约", "Rescheduled by the office")) }
                            }
                            @if line.pending_changes > 0 {
                                " · " (lang.t("未送达 ", "not at the office: ")) (line.pending_changes)
                            }
                        }
                    }
                }
            }
        }
        @if !others.is_empty() {
            h2 { (lang.t("不再派给您的工单（只读）", "No longer yours (read only)")) }
            ul.jobs {
                @for (id, job) in others {
                    li.job.reassigned {
                        a href={ "/jobs/" (id) } {
                            span.number { (job.number.as_deref().unwrap_or_default()) }
                            strong.customer { (job.customer.name) }
                            strong.mark { (lang.t("已改派或归档", "Reassigned or archived")) }
                        }
                    }
                }
            }
        }
    };
    page(lang, frame, lang.t("今日工单", "Today's jobs"), "/", main)
}

/// A step of the visit: its heading, whether it is done, the refusal if it was just refused.
fn step(
    id: &str,
    title: &str,
    done: bool,
    problem: Option<&(String, String)>,
    body: Markup,
) -> Markup {
    let refusal = problem
        .filter(|(action, _)| step_of(action) == id)
        .map(|(_, message)| message.as_str());
    html! {
        section.step id=(id) class={ "step" @if done { " done" } } aria-labelledby={ (id) "-title" } {
            h2 id={ (id) "-title" } { @if done { "✓ " } (title) }
            @if let Some(message) = refusal {
                p.problem role="alert" { (message) }
            }
            (body)
        }
    }
}

/// The step a form's action belongs to.
fn step_of(action: &str) -> &str {
    match action {
        "note" | "item" => "work",
        other => other,
    }
}

pub fn job(
    lang: Lang,
    frame: &Frame,
    view: &JobView,
    mine: bool,
    problem: Option<&(String, String)>,
) -> Markup {
    let job = &view.job;
    let visit = &job.visit;
    let base = format!("/jobs/{}", view.job_id);
    let token = &frame.form_token;
    let open = mine
        && !matches!(
            view.evaluation.status,
            JobStatus::Cancelled | JobStatus::Archived
        );
    let rescheduled = job.timeline.iter().any(|e| e.kind == "rescheduled");
    // After leaving, the visit is closed to more work (it would change what was signed).
    let adding = open && visit.departure.is_none();
    // Signed, then changed: what the customer signed is no longer the job; they sign again.
    let resign = view
        .evaluation
        .missing
        .contains(&CompletionCondition::SignatureMatchesContent);
    let mut leave_question = lang
        .t(
            "确认已离开现场？离开后不能再记录物品使用、工作和意见卡。",
            "Have you left the site? After leaving, no more permissions, work or feedback cards can be recorded.",
        )
        .to_owned();
    if !view.evaluation.missing.is_empty() {
        leave_question.push_str(lang.t("\n尚缺：", "\nStill missing: "));
        let missing: Vec<&str> = view
            .evaluation
            .missing
            .iter()
            .map(|condition| words::missing(lang, *condition))
            .collect();
        leave_question.push_str(&missing.join(lang.t("；", "; ")));
    }
    let signed_note = html! {
        @if visit.signature.is_some() && adding {
            p.note { (lang.t("客户已签字：再修改此处内容，需请客户重新签字。", "The customer has signed: changing this means asking them to sign again.")) }
        }
    };
    let form = |action: &str, body: Markup| -> Markup {
        html! {
            form method="post" action={ (base) "/" (action) } {
                input type="hidden" name="csrf" value=(token);
                (body)
            }
        }
    };
    // Cleaned, with the debris decided as the customer agreed and the departure witnessed.
    let cleaned = visit
        .cleanup
        .as_ref()
        .is_some_and(|c| c.departure_witnessed && c.debris_consented());
    let pay_form = |was: Option<&sync_protocol::job::PaymentDue>| -> Markup {
        // The amount as typed: the figure without its currency.
        let amount = was.map(|p| {
            crate::money::format_amount(p.amount_minor, &p.currency)
                .split(' ')
                .next()
                .unwrap_or_default()
                .to_owned()
        });
        let reference = was.map_or_else(
            || job.number.clone().unwrap_or_default(),
            |p| p.transfer_reference.clone(),
        );
        form(
            "pay",
            html! {
                p.note { (lang.t("技术人员不收现金：客户通过银行转账付款，转账附言如下。", "Technicians never take cash: the customer pays by bank transfer with this reference.")) }
                input type="hidden" name="method" value="bank_transfer";
                label for="amount" { (lang.t("金额（元）", "Amount (CNY)")) }
                input #amount name="amount" inputmode="decimal" maxlength="20" value=[amount];
                label for="reference" { (lang.t("转账附言", "Transfer reference")) }
                input #reference name="reference" maxlength="100" value=(reference);
                button.big type="submit" { (lang.t("记录应付款", "Record the amount due")) }
            },
        )
    };
    let cleanup_form = |was: Option<&sync_protocol::job::CleanupConfirmation>| -> Markup {
        let debris = was.map_or("taken_away", |c| c.debris.as_str());
        form(
            "cleanup",
            html! {
                label for="debris" { (lang.t("垃圾处理（按客户意见）", "Debris (as the customer agreed)")) }
                select #debris name="debris" {
                    option value="taken_away" selected[debris == "taken_away"] { (lang.t("带走", "taken away")) }
                    option value="left_at_customer_request" selected[debris == "left_at_customer_request"] { (lang.t("应客户要求留下", "left at the customer's request")) }
                    option value="none" selected[debris == "none"] { (lang.t("无垃圾", "no debris")) }
                }
                label for="consent_by" { (lang.t("同意人", "Who agreed")) }
                input #consent_by name="consent_by" maxlength="200" value=(was.and_then(|c| c.consented_by.as_deref()).unwrap_or_default());
                label.check { input #witnessed type="checkbox" name="witnessed" value="yes" checked[was.is_some_and(|c| c.departure_witnessed)]; " " (lang.t("客户将目送我离开", "The customer will see me leave")) }
                button.big type="submit" { (lang.t("确认已清理", "Confirm the cleanup")) }
            },
        )
    };
    let main = html! {
        div.head {
            h1 { (job.number.as_deref().unwrap_or_default()) " " (job.customer.name) }
            p.status { (words::status(lang, view.evaluation.status)) " · " (words::kind(lang, job.kind.as_str())) }
        }
        @if !mine {
            p.banner role="alert" { (lang.t("此工单已改派给其他人员或已归档：只能查看。", "This job was reassigned or archived: read only.")) }
        }
        @if job.status.state.as_str() == "cancelled" {
            p.banner role="alert" {
                (lang.t("办公室已取消此工单", "The office cancelled this job"))
                @if let Some(reason) = &job.status.reason { "：" (reason) }
            }
        }
        dl.facts {
            dt { (lang.t("地址", "Address")) } dd { (job.customer.address) }
            dt { (lang.t("电话", "Phone")) } dd { (job.customer.phone.as_deref().unwrap_or("—")) }
            dt { (lang.t("预约时段", "Window")) }
            dd {
                (clock(job.appointment.window_start.0)) " – " (clock(job.appointment.window_end.0))
                @if rescheduled { " " strong.mark { (lang.t("已改约", "rescheduled")) } }
            }
        }
        @if !view.evaluation.missing.is_empty() && open {
            section.missing aria-labelledby="missing-title" {
                h2 #missing-title { (lang.t("完工尚缺", "Still missing for completion")) }
                ul { @for condition in &view.evaluation.missing { li { (words::missing(lang, *condition)) } } }
            }
        }
        (step("arrive", lang.t("1 到达", "1 Arrive"), visit.arrival.is_some(), problem, html! {
            @match &job.appointment.confirmation {
                Some(c) => p { (lang.t("客户已确认预约：", "The customer confirmed: ")) (c.confirmed_by) },
                None => p.warn role="alert" { (lang.t("客户尚未确认此预约，上门前请先联系办公室或客户。", "The customer has not confirmed this appointment: check with the office before going in.")) },
            }
            @match &visit.arrival {
                Some(a) => p { (lang.t("到达时间 ", "Arrived ")) (clock(a.at.0)) },
                None => @if open { (form("arrive", html! { button.big type="submit" { (lang.t("我已到达", "I have arrived")) } })) },
            }
        }))
        (step("permit", lang.t("2 使用客户物品前征得同意", "2 Ask before using the customer's things"), !visit.permissions.is_empty(), problem, html! {
            ul { @for g in &visit.permissions { li { (g.item) " — " (lang.t("同意人 ", "allowed by ")) (g.granted_by) } } }
            (signed_note)
            @if adding {
                (form("permit", html! {
                    label for="item" { (lang.t("要使用或移动的物品", "What you will touch or use")) }
                    input #item name="item" maxlength="500";
                    label for="granted_by" { (lang.t("同意人", "Who allowed it")) }
                    input #granted_by name="granted_by" maxlength="200";
                    button.big type="submit" { (lang.t("记录同意", "Record the permission")) }
                }))
            }
        }))
        (step("work", lang.t("3 工作与材料", "3 Work and parts"), !visit.work_notes.is_empty(), problem, html! {
            @if !visit.work_notes.is_empty() { p.notes { (visit.work_notes) } }
            ul { @for item in &visit.work_items { li { (item.description) " × " (item.quantity) } } }
            (signed_note)
            @if adding {
                (form("note", html! {
                    label for="note" { (lang.t("工作记录", "Work note")) }
                    textarea #note name="note" rows="3" maxlength="4000" {}
                    button.big type="submit" { (lang.t("添加记录", "Add the note")) }
                }))
                (form("item", html! {
                    label for="description" { (lang.t("材料或项目", "Part or work")) }
                    input #description name="description" maxlength="500";
                    label for="quantity" { (lang.t("数量", "Quantity")) }
                    input #quantity name="quantity" type="number" min="1" value="1" inputmode="numeric";
                    button.big type="submit" { (lang.t("添加", "Add")) }
                }))
            }
        }))
        (step("pay", lang.t("4 应付款（仅银行转账）", "4 Amount due (bank transfer only)"), visit.payment_due.is_some(), problem, html! {
            @if let Some(p) = &visit.payment_due {
                p { (crate::money::format_amount(p.amount_minor, &p.currency)) " · " (lang.t("转账附言 ", "reference ")) code { (p.transfer_reference) } }
                // A figure typed wrong is corrected here until leaving.
                @if adding {
                    details.change {
                        summary { (lang.t("更改应付款", "Change the amount due")) }
                        (pay_form(Some(p)))
                    }
                }
            } @else if open {
                (pay_form(None))
            }
        }))
        (step("sign", lang.t("5 客户签字", "5 Customer's signature"), visit.signature.is_some() && !resign, problem, html! {
            @if let Some(s) = &visit.signature {
                p { (lang.t("签字人 ", "Signed by ")) (s.signer_name) " · " (clock(s.signed_at.0)) }
                @if resign {
                    p.warn role="alert" { (lang.t("签字后工单内容有改动：请客户看过下面的内容后重新签字。", "The job changed after the customer signed: show them the summary below and ask them to sign again.")) }
                }
            }
            @if visit.signature.is_none() || resign {
                @if open {
                    div.summary {
                        p { strong { (lang.t("请客户确认以下内容后签字：", "Show the customer what they sign:")) } }
                        dl {
                            dt { (lang.t("项目", "Job")) } dd { (words::kind(lang, job.kind.as_str())) " · " (job.customer.name) " · " (job.customer.address) }
                            dt { (lang.t("工作记录", "Work notes")) } dd.notes { (visit.work_notes) }
                            dt { (lang.t("材料", "Parts")) } dd { @for item in &visit.work_items { (item.description) " × " (item.quantity) "; " } }
                            dt { (lang.t("应付款", "Amount due")) } dd { @if let Some(p) = &visit.payment_due { (crate::money::format_amount(p.amount_minor, &p.currency)) " (" (lang.t("银行转账", "bank transfer")) ")" } @else { "—" } }
                            dt { (lang.t("使用的物品", "Things used")) } dd { @for g in &visit.permissions { (g.item) "; " } }
                        }
                    }
                    div.signing data-action={ (base) "/sign" } {
                        label for="signer" { (lang.t("签字人姓名", "Signer's name")) }
                        input #signer name="signer" maxlength="200";
                        canvas #pad width="600" height="240" role="img" aria-label=(lang.t("签字板：请用手指签名", "Signature pad: sign with a finger")) {}
                        div.row {
                            button.big.secondary type="button" data-clear { (lang.t("重写", "Clear")) }
                            button.big type="button" data-sign { (lang.t("确认签字", "Save the signature")) }
                        }
                        p.problem.js-problem role="alert" hidden {}
                    }
                }
            }
        }))
        (step("card", lang.t("6 意见卡照片", "6 Feedback card photo"), !visit.feedback_cards.is_empty(), problem, html! {
            @for card in &visit.feedback_cards {
                p { (card.photo_sha256s.len()) (lang.t(" 张照片", " photo(s)")) @if let Some(r) = card.rating { " · " (lang.t("满意度 ", "rating ")) (r) } }
            }
            @if adding {
                div.photo data-action={ (base) "/photo?kind=feedback_card" } {
                    label for="card-photo" { (lang.t("拍摄意见卡", "Photograph the card")) }
                    input #card-photo type="file" accept="image/*" capture="environment";
                    img.preview alt=(lang.t("意见卡照片预览", "Preview of the card photo")) hidden;
                    label for="rating" { (lang.t("客户评分（1–5，可不填）", "Customer's rating (1–5, optional)")) }
                    select #rating name="rating" {
                        option value="" { "—" }
                        @for n in 1..=5 { option value=(n) { (n) } }
                    }
                    label for="comment" { (lang.t("客户意见（可不填）", "Customer's comment (optional)")) }
                    input #comment name="comment" maxlength="2000";
                    button.big type="button" data-send { (lang.t("保存照片", "Save the photo")) }
                    p.problem.js-problem role="alert" hidden {}
                }
            }
        }))
        (step("cleanup", lang.t("7 清理现场", "7 Clean up"), cleaned, problem, html! {
            @if let Some(c) = &visit.cleanup {
                p {
                    (lang.t("垃圾：", "Debris: ")) (words::debris(lang, c.debris.as_str()))
                    @if let Some(by) = &c.consented_by { " · " (lang.t("同意人 ", "agreed by ")) (by) }
                    " · " (lang.t("客户目送离开：", "customer sees me leave: "))
                    @if c.departure_witnessed { (lang.t("是", "yes")) } @else { strong.mark { (lang.t("否", "no")) } }
                }
                @if c.photo_sha256.is_none() && open {
                    div.photo data-action={ (base) "/photo?kind=cleanup" } {
                        label for="cleanup-photo" { (lang.t("拍摄清理后的现场", "Photograph the cleaned site")) }
                        input #cleanup-photo type="file" accept="image/*" capture="environment";
                        img.preview alt=(lang.t("现场照片预览", "Preview of the site photo")) hidden;
                        button.big type="button" data-send { (lang.t("保存照片", "Save the photo")) }
                        p.problem.js-problem role="alert" hidden {}
                    }
                }
                // An answer recorded wrong is corrected here until leaving (the photo stays).
                @if adding {
                    details.change open[!cleaned] {
                        summary { (lang.t("更改清理记录", "Change the cleanup record")) }
                        (cleanup_form(Some(c)))
                    }
                }
            } @else if open {
                (cleanup_form(None))
            }
        }))
        (step("depart", lang.t("8 离开", "8 Leave"), visit.departure.is_some(), problem, html! {
            @match &visit.departure {
                Some(d) => p { (lang.t("离开时间 ", "Left ")) (clock(d.at.0)) },
                None => @if open {
                    // Leaving closes the visit to more work: asked first, with what is missing.
                    form method="post" action={ (base) "/depart" } data-confirm=(leave_question) {
                        input type="hidden" name="csrf" value=(token);
                        button.big type="submit" { (lang.t("我已离开", "I have left")) }
                    }
                },
            }
        }))
        @if !view.uploads.is_empty() {
            section.files aria-labelledby="files-title" {
                h2 #files-title { (lang.t("文件", "Files")) }
                ul {
                    @for u in &view.uploads {
                        li {
                            (words::file_kind(lang, u.kind.as_str())) " · "
                            @match u.state {
                                UploadState::Uploaded => { (lang.t("已送达办公室", "at the office")) }
                                UploadState::Refused => { strong.warn { (lang.t("被拒收：", "refused: ")) (u.refusal.as_deref().unwrap_or_default()) } }
                                _ => { (lang.t("等待上传", "waiting to upload")) }
                            }
                        }
                    }
                }
            }
        }
    };
    let title = job
        .number
        .clone()
        .unwrap_or_else(|| job.customer.name.clone());
    page(lang, frame, &title, &base, main)
}
