//! Which intrinsic functions each template version has: the one table, as Heat 27 defines
//! it (`heat/engine/hot/template.py`, `heat/engine/cfn/template.py`).
//!
//! Each row is a function name; each column a version: the eleven HOT dates, then
//! `HeatTemplateFormatVersion 2012-12-12` and `AWSTemplateFormatVersion 2010-09-09`. A cell
//! is the implementation used there (different cells of a row may hold different variants,
//! as Heat switches classes between versions), [`Cell::Removed`], [`Cell::Pending`] or
//! absent. Condition context (the `conditions` section, `condition:` fields and the first
//! argument of `if`) has its own rows; every other function is `Invalid` there.
//!
//! Adding a function means a module implementing [`Function`] and its cells here; a
//! `Pending` name (`if`, `yaql`, the condition functions) gets its implementation by
//! replacing its `P` cells with a constant like the ones below.

use super::Function;
use super::get_attr::{AttrForm, GetAttr};
use super::list_join::ListJoin;
use super::repeat::{Repeat, RepeatForm};
use super::str_replace::{ReplaceMode, StrReplace};
use super::{cfn, cfn_collections, digest, get_file, get_param, get_resource};
use super::{lists, make_url, maps, resource_facade, split};
use crate::template::version::{CfnVersion, HOT_VERSIONS, TemplateVersion};

/// Where a call appears.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// Properties, metadata, outputs: [`ROWS`].
    Value,
    /// Conditions: [`CONDITION_ROWS`], every other function `Invalid`.
    Condition,
}

/// What a single-key map is in one version and context.
#[derive(Clone, Copy)]
pub enum Availability {
    /// A function call.
    Function(&'static dyn Function),
    /// A function removed from this version: fails validation with Heat's message.
    Removed,
    /// A function not allowed in this context (conditions): fails validation.
    Invalid,
    /// Not a function here: the map is data.
    Absent,
}

/// One cell of the table.
#[derive(Clone, Copy)]
pub enum Cell {
    /// Not a function in this version.
    No,
    /// The function, with the variant of its implementation this version uses.
    Is(&'static dyn Function),
    /// Removed from this version.
    Removed,
    /// A function of this version whose implementation is not written yet (the condition
    /// functions): treated as absent until a module fills the cell.
    Pending,
}

/// Number of columns: the HOT versions, then the two CFN formats.
pub const COLUMNS: usize = 13;
const HOT_COLUMNS: usize = 11;
const _: () = assert!(HOT_VERSIONS.len() == HOT_COLUMNS);

/// A row: a function name and its cell in every version.
pub type Row = (&'static str, [Cell; COLUMNS]);

use Cell::{No as N, Pending as P, Removed as R};

const GP: Cell = Cell::Is(&get_param::GetParam);
const GR: Cell = Cell::Is(&get_resource::GetResource);
const GF: Cell = Cell::Is(&get_file::GetFile);
const FACADE: Cell = Cell::Is(&resource_facade::ResourceFacade { cfn: false });
const GA13: Cell = Cell::Is(&GetAttr(AttrForm::ThenSelect));
const GA14: Cell = Cell::Is(&GetAttr(AttrForm::PathAware));
const GA: Cell = Cell::Is(&GetAttr(AttrForm::AllAttributes));
const LJ1: Cell = Cell::Is(&ListJoin {
    name: "list_join",
    multi: false,
});
const LJ: Cell = Cell::Is(&ListJoin {
    name: "list_join",
    multi: true,
});
const SR1: Cell = Cell::Is(&StrReplace {
    name: "str_replace",
    mode: ReplaceMode::Scalars,
});
const SR: Cell = Cell::Is(&StrReplace {
    name: "str_replace",
    mode: ReplaceMode::Json,
});
const SRS: Cell = Cell::Is(&StrReplace {
    name: "str_replace_strict",
    mode: ReplaceMode::Strict,
});
const SRV: Cell = Cell::Is(&StrReplace {
    name: "str_replace_vstrict",
    mode: ReplaceMode::VeryStrict,
});
const RP1: Cell = Cell::Is(&Repeat(RepeatForm::Lists));
const RPM: Cell = Cell::Is(&Repeat(RepeatForm::ListsOrMaps));
const RP: Cell = Cell::Is(&Repeat(RepeatForm::Permutations));
const DG: Cell = Cell::Is(&digest::Digest);
const SS: Cell = Cell::Is(&split::StrSplit);
const MM: Cell = Cell::Is(&maps::MapMerge);
const MR: Cell = Cell::Is(&maps::MapReplace);
const FL: Cell = Cell::Is(&lists::Filter);
const MU: Cell = Cell::Is(&make_url::MakeUrl);
const LC: Cell = Cell::Is(&lists::ListConcat { unique: false });
const LCU: Cell = Cell::Is(&lists::ListConcat { unique: true });
const CT: Cell = Cell::Is(&lists::Contains);
const YQ: Cell = Cell::Is(&super::yaql::Yaql);
const REF: Cell = Cell::Is(&cfn::Ref { params_only: false });
const PARAM_REF: Cell = Cell::Is(&cfn::Ref { params_only: true });
const GETATT: Cell = Cell::Is(&GetAttr(AttrForm::Cfn));
const SEL: Cell = Cell::Is(&cfn_collections::Select);
const JOIN: Cell = Cell::Is(&ListJoin {
    name: "Fn::Join",
    multi: false,
});
const SPLIT: Cell = Cell::Is(&split::FnSplit);
const REPLACE: Cell = Cell::Is(&StrReplace {
    name: "Fn::Replace",
    mode: ReplaceMode::Cfn,
});
const B64: Cell = Cell::Is(&cfn::Base64);
const AZS: Cell = Cell::Is(&cfn::GetAzs);
const MLTM: Cell = Cell::Is(&cfn_collections::MemberListToMap);
const FIM: Cell = Cell::Is(&cfn::FindInMap);
const FFACADE: Cell = Cell::Is(&resource_facade::ResourceFacade { cfn: true });

/// Functions in value context (§1.3 of the Heat reference).
#[rustfmt::skip]
pub static ROWS: &[Row] = &[
    //                          2013   2014   2015   2015   2016   2016   2017   2017   2018   2018   2021   Heat   AWS
    //                          05-23  10-16  04-30  10-15  04-08  10-14  02-24  09-01  03-02  08-31  04-16  CFN    CFN
    ("get_param",              [GP,    GP,    GP,    GP,    GP,    GP,    GP,    GP,    GP,    GP,    GP,    N,     N]),
    ("get_resource",           [GR,    GR,    GR,    GR,    GR,    GR,    GR,    GR,    GR,    GR,    GR,    N,     N]),
    ("get_file",               [GF,    GF,    GF,    GF,    GF,    GF,    GF,    GF,    GF,    GF,    GF,    N,     N]),
    ("resource_facade",        [FACADE,FACADE,FACADE,FACADE,FACADE,FACADE,FACADE,FACADE,FACADE,FACADE,FACADE,N,     N]),
    ("get_attr",               [GA13,  GA14,  GA14,  GA,    GA,    GA,    GA,    GA,    GA,    GA,    GA,    N,     N]),
    ("list_join",              [LJ1,   LJ1,   LJ1,   LJ,    LJ,    LJ,    LJ,    LJ,    LJ,    LJ,    LJ,    N,     N]),
    ("str_replace",            [SR1,   SR1,   SR1,   SR,    SR,    SR,    SR,    SR,    SR,    SR,    SR,    N,     N]),
    ("repeat",                 [N,     N,     RP1,   RP1,   RP1,   RPM,   RPM,   RP,    RP,    RP,    RP,    N,     N]),
    ("digest",                 [N,     N,     DG,    DG,    DG,    DG,    DG,    DG,    DG,    DG,    DG,    N,     N]),
    ("str_split",              [N,     N,     N,     SS,    SS,    SS,    SS,    SS,    SS,    SS,    SS,    N,     N]),
    ("map_merge",              [N,     N,     N,     N,     MM,    MM,    MM,    MM,    MM,    MM,    MM,    N,     N]),
    ("map_replace",            [N,     N,     N,     N,     N,     MR,    MR,    MR,    MR,    MR,    MR,    N,     N]),
    ("yaql",                   [N,     N,     N,     N,     N,     YQ,    YQ,    YQ,    YQ,    YQ,    YQ,    N,     N]),
    ("if",                     [N,     N,     N,     N,     N,     P,     P,     P,     P,     P,     P,     N,     N]),
    ("filter",                 [N,     N,     N,     N,     N,     N,     FL,    FL,    FL,    FL,    FL,    N,     N]),
    ("str_replace_strict",     [N,     N,     N,     N,     N,     N,     SRS,   SRS,   SRS,   SRS,   SRS,   N,     N]),
    ("make_url",               [N,     N,     N,     N,     N,     N,     N,     MU,    MU,    MU,    MU,    N,     N]),
    ("list_concat",            [N,     N,     N,     N,     N,     N,     N,     LC,    LC,    LC,    LC,    N,     N]),
    ("list_concat_unique",     [N,     N,     N,     N,     N,     N,     N,     LCU,   LCU,   LCU,   LCU,   N,     N]),
    ("str_replace_vstrict",    [N,     N,     N,     N,     N,     N,     N,     SRV,   SRV,   SRV,   SRV,   N,     N]),
    ("contains",               [N,     N,     N,     N,     N,     N,     N,     CT,    CT,    CT,    CT,    N,     N]),
    ("Fn::Select",             [SEL,   SEL,   SEL,   R,     R,     R,     R,     R,     R,     R,     R,     SEL,   SEL]),
    ("Ref",                    [REF,   R,     R,     R,     R,     R,     R,     R,     R,     R,     R,     REF,   REF]),
    ("Fn::GetAZs",             [AZS,   R,     R,     R,     R,     R,     R,     R,     R,     R,     R,     AZS,   AZS]),
    ("Fn::Join",               [JOIN,  R,     R,     R,     R,     R,     R,     R,     R,     R,     R,     JOIN,  JOIN]),
    ("Fn::Split",              [SPLIT, R,     R,     R,     R,     R,     R,     R,     R,     R,     R,     SPLIT, SPLIT]),
    ("Fn::Replace",            [REPLACE,R,    R,     R,     R,     R,     R,     R,     R,     R,     R,     REPLACE,REPLACE]),
    ("Fn::Base64",             [B64,   R,     R,     R,     R,     R,     R,     R,     R,     R,     R,     B64,   B64]),
    ("Fn::MemberListToMap",    [MLTM,  R,     R,     R,     R,     R,     R,     R,     R,     R,     R,     MLTM,  MLTM]),
    ("Fn::ResourceFacade",     [FFACADE,R,    R,     R,     R,     R,     R,     R,     R,     R,     R,     FFACADE,FFACADE]),
    ("Fn::GetAtt",             [N,     N,     N,     N,     N,     N,     N,     N,     N,     N,     N,     GETATT,GETATT]),
    ("Fn::FindInMap",          [N,     N,     N,     N,     N,     N,     N,     N,     N,     N,     N,     FIM,   FIM]),
    ("Fn::If",                 [N,     N,     N,     N,     N,     N,     N,     N,     N,     N,     N,     N,     P]),
];

/// Functions in condition context; names not here but in [`ROWS`] are `Invalid` there.
#[rustfmt::skip]
pub static CONDITION_ROWS: &[Row] = &[
    //                          2013   2014   2015   2015   2016   2016   2017   2017   2018   2018   2021   Heat   AWS
    ("get_param",              [N,     N,     N,     N,     N,     GP,    GP,    GP,    GP,    GP,    GP,    N,     N]),
    ("equals",                 [N,     N,     N,     N,     N,     P,     P,     P,     P,     P,     P,     N,     N]),
    ("not",                    [N,     N,     N,     N,     N,     P,     P,     P,     P,     P,     P,     N,     N]),
    ("and",                    [N,     N,     N,     N,     N,     P,     P,     P,     P,     P,     P,     N,     N]),
    ("or",                     [N,     N,     N,     N,     N,     P,     P,     P,     P,     P,     P,     N,     N]),
    ("yaql",                   [N,     N,     N,     N,     N,     N,     N,     YQ,    YQ,    YQ,    YQ,    N,     N]),
    ("contains",               [N,     N,     N,     N,     N,     N,     N,     CT,    CT,    CT,    CT,    N,     N]),
    ("Ref",                    [N,     N,     N,     N,     N,     N,     N,     N,     N,     N,     N,     N,     PARAM_REF]),
    ("Fn::FindInMap",          [N,     N,     N,     N,     N,     N,     N,     N,     N,     N,     N,     N,     FIM]),
    ("Fn::Equals",             [N,     N,     N,     N,     N,     N,     N,     N,     N,     N,     N,     N,     P]),
    ("Fn::Not",                [N,     N,     N,     N,     N,     N,     N,     N,     N,     N,     N,     N,     P]),
    ("Fn::And",                [N,     N,     N,     N,     N,     N,     N,     N,     N,     N,     N,     N,     P]),
    ("Fn::Or",                 [N,     N,     N,     N,     N,     N,     N,     N,     N,     N,     N,     N,     P]),
];

/// The column of a version.
pub fn column(version: TemplateVersion) -> usize {
    match version {
        TemplateVersion::Hot(v) => HOT_VERSIONS
            .iter()
            .position(|(h, _, _)| *h == v)
            .unwrap_or(HOT_COLUMNS - 1),
        TemplateVersion::Cfn(CfnVersion::Heat2012_12_12) => HOT_COLUMNS,
        TemplateVersion::Cfn(CfnVersion::Aws2010_09_09) => HOT_COLUMNS + 1,
    }
}

fn cell(rows: &[Row], name: &str, col: usize) -> Cell {
    rows.iter()
        .find(|(n, _)| *n == name)
        .map_or(Cell::No, |(_, cells)| cells[col])
}

/// What `name` is in `version` and `context`.
pub fn lookup(name: &str, version: TemplateVersion, context: Context) -> Availability {
    let col = column(version);
    let value_cell = cell(ROWS, name, col);
    let chosen = match context {
        Context::Value => value_cell,
        Context::Condition => match (cell(CONDITION_ROWS, name, col), value_cell) {
            (Cell::No, Cell::No) => Cell::No,
            (Cell::No, Cell::Removed) if version.hot_since(CONDITIONS_KEEP_REMOVED) => {
                Cell::Removed
            }
            (Cell::No, _) => return Availability::Invalid,
            (own, _) => own,
        },
    };
    match chosen {
        Cell::Is(f) => Availability::Function(f),
        Cell::Removed => Availability::Removed,
        Cell::No | Cell::Pending => Availability::Absent,
    }
}

/// From this HOT version, a removed function stays "removed" in conditions rather than
/// becoming invalid there (Heat's `HOTemplate20161014` builds its condition table so).
const CONDITIONS_KEEP_REMOVED: crate::template::version::HotVersion =
    crate::template::version::HotVersion::V2016_10_14;

/// The names that are functions (implemented or pending) in `version`, in table order,
/// as `GET /template_versions/<v>/functions` lists them.
pub fn function_names(version: TemplateVersion, context: Context) -> Vec<&'static str> {
    let col = column(version);
    let rows = match context {
        Context::Value => ROWS,
        Context::Condition => CONDITION_ROWS,
    };
    rows.iter()
        .filter(|(_, cells)| matches!(cells[col], Cell::Is(_) | Cell::Pending))
        .map(|(name, _)| *name)
        .collect()
}

#[cfg(test)]
#[path = "table_tests.rs"]
mod tests;
