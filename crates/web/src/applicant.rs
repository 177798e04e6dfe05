//! Who is applying on this request: an enterprise (by the certificate it logged in with) or an
//! individual. The one check every item and case page makes: the item takes this kind of
//! applicant, and an enterprise's certificate may act on the item (secondary certificates only
//! on the services their primary granted).
use axum::http::request::Parts;
use tongban_cases::Applicant;
use tongban_engine::Item;
use tongban_engine::spec::ApplicantKind;
use tongban_identity::enterprise::{self, EnterpriseActor};
use tongban_identity::individual::{self, Individual};

use crate::session;
use crate::{AppState, WebError};

pub enum Who {
    Enterprise(Box<EnterpriseActor>),
    Individual(Individual),
}

pub struct CurrentApplicant {
    pub who: Who,
    pub applicant: Applicant,
}

impl CurrentApplicant {
    /// Refuses with a Chinese reason unless this applicant may apply for `item`.
    pub fn may_apply(&self, item: &Item) -> Result<(), WebError> {
        match &self.who {
            Who::Enterprise(actor) => {
                if !item.applicants.contains(&ApplicantKind::Enterprise) {
                    return Err(WebError::NotAllowed("本事项仅限个人办理".into()));
                }
                if !actor.certificate.may_act_on(&item.id) {
                    return Err(WebError::NotAllowed(
                        "您使用的数字证书无权办理该事项，请联系本单位主证书持有人授权".into(),
                    ));
                }
                Ok(())
            }
            Who::Individual(_) => {
                if item.applicants.contains(&ApplicantKind::Individual) {
                    Ok(())
                } else {
                    Err(WebError::NotAllowed(
                        "本事项仅限法人办理，请使用法人一证通登录".into(),
                    ))
                }
            }
        }
    }

    /// The items whose cases this login may see: all for an individual or a primary
    /// certificate, the granted ones for a secondary, none for a certificate not yet opened.
    pub fn visible_items(&self) -> Option<Vec<String>> {
        use tongban_domain::certificate::CertificateRole;
        match &self.who {
            Who::Enterprise(actor) => match actor.certificate.role {
                CertificateRole::Primary => None,
                CertificateRole::Secondary => Some(actor.certificate.rights.clone()),
                CertificateRole::Unregistered => Some(vec![]),
            },
            Who::Individual(_) => None,
        }
    }

    /// What is known about the applicant: their profile, then every external prefill source
    /// (one that fails is logged and skipped).
    pub async fn known_with(
        &self,
        sources: &[std::sync::Arc<dyn tongban_engine::prefill::PrefillSource>],
    ) -> tongban_engine::prefill::Known {
        let mut known = self.known();
        for source in sources {
            match source.lookup(&known).await {
                Ok(more) => {
                    for (k, v) in more {
                        known.entry(k).or_insert(v);
                    }
                }
                Err(e) => {
                    tracing::warn!(source = source.name(), error = %e, "prefill source failed")
                }
            }
        }
        known
    }

    /// What the applicant's own profile says, keyed `source.key`.
    pub fn known(&self) -> tongban_engine::prefill::Known {
        let mut known = tongban_engine::prefill::Known::new();
        // The platform's own: annual reports default to the year just ended (Beijing).
        let year = tongban_domain::Timestamp::now().beijing_year();
        known.insert("calendar.last_year".into(), (year - 1).to_string());
        match &self.who {
            Who::Enterprise(actor) => {
                let e = &actor.enterprise;
                for (k, v) in [
                    ("enterprise.name", e.name.clone()),
                    ("enterprise.credit_code", e.credit_code.as_str().to_string()),
                    (
                        "enterprise.registered_address",
                        e.registered_address.clone(),
                    ),
                    (
                        "enterprise.legal_representative",
                        e.legal_representative.clone(),
                    ),
                ] {
                    known.insert(k.to_string(), v);
                }
            }
            Who::Individual(p) => {
                known.insert("individual.name".into(), p.name.clone());
                known.insert("individual.phone".into(), p.phone.clone());
                known.insert(
                    "individual.id_number".into(),
                    p.id_number.as_str().to_string(),
                );
            }
        }
        known
    }

    /// Where this applicant's home page is.
    pub fn home(&self) -> &'static str {
        match self.who {
            Who::Enterprise(_) => "/enterprise",
            Who::Individual(_) => "/me",
        }
    }
}

impl axum::extract::FromRequestParts<AppState> for CurrentApplicant {
    type Rejection = WebError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, WebError> {
        let (store, fields) = (&state.store, &state.fields);
        let who = session::resolve(parts, "/login", |secret| async move {
            if let Some(actor) = enterprise::actor_of_session(store, &secret).await? {
                return Ok(Some(Who::Enterprise(Box::new(actor))));
            }
            Ok(individual::of_session(store, fields, &secret)
                .await?
                .map(Who::Individual))
        })
        .await?;
        let applicant = match &who {
            Who::Enterprise(actor) => Applicant::Enterprise {
                id: actor.enterprise.id.clone(),
                actor: actor.audit_name(),
            },
            Who::Individual(p) => Applicant::Individual { id: p.id.clone() },
        };
        Ok(CurrentApplicant { who, applicant })
    }
}
