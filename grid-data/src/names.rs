//! Plausible Chinese place names for synthetic grids (never real registry data).

use crate::rng::SplitMix64;

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "林", "高", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "田",
    "董", "袁", "潘", "蒋", "蔡", "杜", "程", "苏", "魏", "吕", "丁", "任", "姚", "卢", "崔", "范",
    "石", "贾", "薛", "段", "雷", "侯", "史", "郝", "孔", "牛", "卫", "翟", "原", "常", "靳", "聂",
];
const SURNAME_SUFFIXES: &[&str] = &[
    "庄", "家庄", "营", "屯", "寨", "堡", "店", "集", "洼", "沟", "岭", "坡", "河", "楼", "湾",
    "岗",
];
const QUALIFIERS: &[&str] = &[
    "东", "西", "南", "北", "前", "后", "上", "下", "大", "小", "新", "老", "高", "长", "中", "双",
];
const FEATURES: &[&str] = &[
    "河", "山", "沟", "岭", "坡", "湾", "林", "泉", "石", "柳", "桃", "杏", "槐", "枣", "梨", "松",
    "峪", "岩", "水", "阳", "桥", "塘", "堰", "井",
];
const FEATURE_SUFFIXES: &[&str] = &[
    "", "庄", "沟", "峪", "坪", "洼", "岭", "园", "口", "头", "滩",
];
const DIGITS: [&str; 10] = ["〇", "一", "二", "三", "四", "五", "六", "七", "八", "九"];

/// A village name ending in 村, e.g. `王家庄村`, `后柳沟村`.
pub(crate) fn village_name(rng: &mut SplitMix64) -> String {
    let base = if rng.next_u64() & 1 == 0 {
        format!("{}{}", rng.pick(SURNAMES), rng.pick(SURNAME_SUFFIXES))
    } else {
        format!(
            "{}{}{}",
            rng.pick(QUALIFIERS),
            rng.pick(FEATURES),
            rng.pick(FEATURE_SUFFIXES)
        )
    };
    format!("{base}村")
}

/// Chinese numeral for 1–99 (`十二`, `二十`), used in area names.
pub(crate) fn numeral(n: u32) -> String {
    let (tens, ones) = ((n / 10) as usize, (n % 10) as usize);
    match (tens, ones) {
        (0, o) => DIGITS[o].to_owned(),
        (1, 0) => "十".to_owned(),
        (1, o) => format!("十{}", DIGITS[o]),
        (t, 0) => format!("{}十", DIGITS[t % 10]),
        (t, o) => format!("{}十{}", DIGITS[t % 10], DIGITS[o]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numerals_read_naturally() {
        assert_eq!(numeral(1), "一");
        assert_eq!(numeral(10), "十");
        assert_eq!(numeral(12), "十二");
        assert_eq!(numeral(40), "四十");
        assert_eq!(numeral(99), "九十九");
    }

    #[test]
    fn village_names_end_with_cun() {
        let mut rng = SplitMix64::new(7);
        for _ in 0..100 {
            assert!(village_name(&mut rng).ends_with('村'));
        }
    }
}
