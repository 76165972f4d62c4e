//! The standard event categories (CJ/T 214 style: major 2 digits + minor 2 digits), each with
//! its squad domain, handling time (济源-style lists), procedure and legal basis: installed on
//! every new database at start-up (`store::categories::seed_standard`) and used by the demo.

use crate::store::categories::CategoryRow;

/// Squad domains of the model town (seed 002 第五条).
pub const DOMAIN_URBAN: &str = "自然资源和城市管理";
/// 二中队.
pub const DOMAIN_ENV: &str = "环境保护和安全管理";
/// 三中队.
pub const DOMAIN_MARKET: &str = "市场监督管理";
/// 四中队.
pub const DOMAIN_EMERGENCY: &str = "应急管理";

/// The demo category table.
pub fn demo_categories() -> Vec<CategoryRow> {
    let c = |code: &str,
             name: &str,
             domain: &str,
             handling: &str,
             simple: bool,
             penalty: bool,
             basis: &str| CategoryRow {
        code: code.into(),
        name: name.into(),
        domain: domain.into(),
        handling: handling.into(),
        simple_procedure: simple,
        penalty_possible: penalty,
        legal_basis: basis.into(),
        active: true,
    };
    vec![
        c(
            "0101",
            "暴露垃圾",
            DOMAIN_URBAN,
            "1wd",
            true,
            true,
            "《城市市容和环境卫生管理条例》第三十四条",
        ),
        c(
            "0102",
            "道路不洁",
            DOMAIN_URBAN,
            "5wh",
            false,
            false,
            "《城市市容和环境卫生管理条例》第十条",
        ),
        c(
            "0103",
            "乱倒建筑垃圾",
            DOMAIN_URBAN,
            "2wd",
            true,
            true,
            "《城市建筑垃圾管理规定》第二十六条",
        ),
        c(
            "0201",
            "违规户外广告",
            DOMAIN_URBAN,
            "5wd",
            true,
            true,
            "《城市市容和环境卫生管理条例》第十一条",
        ),
        c(
            "0202",
            "乱张贴乱涂写",
            DOMAIN_URBAN,
            "1wd",
            true,
            true,
            "《城市市容和环境卫生管理条例》第十七条",
        ),
        c(
            "0301",
            "违法建设",
            DOMAIN_URBAN,
            "15wd",
            false,
            true,
            "《中华人民共和国城乡规划法》第六十五条",
        ),
        c(
            "0302",
            "施工扬尘",
            DOMAIN_ENV,
            "2wd",
            false,
            true,
            "《中华人民共和国大气污染防治法》第一百一十五条",
        ),
        c(
            "0303",
            "非法占用耕地",
            DOMAIN_URBAN,
            "15wd",
            false,
            true,
            "《中华人民共和国土地管理法》第七十五条",
        ),
        c(
            "0401",
            "占道经营",
            DOMAIN_URBAN,
            "4wh",
            true,
            true,
            "《城市市容和环境卫生管理条例》第三十六条",
        ),
        c(
            "0402",
            "无证经营",
            DOMAIN_MARKET,
            "5wd",
            false,
            true,
            "《无证无照经营查处办法》第十三条",
        ),
        c(
            "0403",
            "食品摊贩不规范经营",
            DOMAIN_MARKET,
            "1wd",
            true,
            true,
            "《中华人民共和国食品安全法》第一百二十二条",
        ),
        c(
            "0404",
            "露天焚烧",
            DOMAIN_ENV,
            "4wh",
            true,
            true,
            "《中华人民共和国大气污染防治法》第一百一十九条",
        ),
        c(
            "0501",
            "消防通道堵塞",
            DOMAIN_EMERGENCY,
            "2wh",
            true,
            true,
            "《中华人民共和国消防法》第六十条",
        ),
        c(
            "0502",
            "燃气安全隐患",
            DOMAIN_EMERGENCY,
            "2wh",
            false,
            true,
            "《城镇燃气管理条例》第四十九条",
        ),
        c("0601", "其他", DOMAIN_URBAN, "3wd", false, false, "—"),
    ]
}
