//! The frame of every console page: language, title, navigation by role, sign-out.

use maud::{DOCTYPE, Markup, html};

use super::i18n::{Lang, Text};
use crate::auth::session::SessionCaller;
use crate::directory::Role;

/// Which page is shown, for the navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Here {
    SignIn,
    Board,
    Revisits,
}

/// A whole page around `main`.
pub fn frame(
    lang: Lang,
    here: Here,
    title: &str,
    signed: Option<&SessionCaller>,
    main: Markup,
) -> Markup {
    let back = match here {
        Here::SignIn => "/console/sign-in",
        Here::Board => "/console/board",
        Here::Revisits => "/console/revisits",
    };
    let other = if lang == Lang::Zh { "en" } else { "zh" };
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · " (lang.t(Text::Title)) }
                link rel="stylesheet" href="/console/assets/console.css";
                @if signed.is_some() && here != Here::SignIn {
                    script src="/console/assets/console.js" defer {}
                }
            }
            body {
                header.top {
                    span.brand { (lang.t(Text::Title)) }
                    @if let Some(signed) = signed {
                        nav aria-label=(lang.t(Text::Title)) {
                            @if matches!(signed.caller.role, Role::Dispatcher | Role::Admin) {
                                a href="/console/board" aria-current=[(here == Here::Board).then_some("page")] {
                                    (lang.t(Text::Board))
                                }
                            }
                            a href="/console/revisits" aria-current=[(here == Here::Revisits).then_some("page")] {
                                (lang.t(Text::Revisits))
                            }
                        }
                    }
                    div.account {
                        a.lang href={ "/console/language?to=" (other) "&back=" (back) } { (lang.t(Text::Language)) }
                        @if let Some(signed) = signed {
                            span.who { (signed.caller.name) }
                            form method="post" action="/console/sign-out" {
                                input type="hidden" name="csrf" value=(signed.csrf_token);
                                button type="submit" { (lang.t(Text::SignOut)) }
                            }
                        }
                    }
                }
                main id="main" data-live[signed.is_some() && here != Here::SignIn] { (main) }
            }
        }
    }
}
