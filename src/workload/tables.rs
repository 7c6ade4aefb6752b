//! The generator's data: census population, phrasings by category, and
//! foreign-language texts.

/// Population by district code, in thousands: the 2020 (seventh) national
/// census, 北京市第七次全国人口普查公报（第二号）, 2021-05-19.
pub(super) const POPULATION: &[(&str, u32)] = &[
    ("110101", 709),  // 东城区
    ("110102", 1106), // 西城区
    ("110105", 3452), // 朝阳区
    ("110106", 2019), // 丰台区
    ("110107", 568),  // 石景山区
    ("110108", 3133), // 海淀区
    ("110109", 393),  // 门头沟区
    ("110111", 1313), // 房山区
    ("110112", 1840), // 通州区
    ("110113", 1324), // 顺义区
    ("110114", 2269), // 昌平区
    ("110115", 1994), // 大兴区
    ("110116", 441),  // 怀柔区
    ("110117", 457),  // 平谷区
    ("110118", 528),  // 密云区
    ("110119", 346),  // 延庆区
];

/// One category's phrasings and its share (per mille, before the season).
pub(super) struct Kind {
    pub(super) code: &'static str,
    pub(super) weight: u32,
    pub(super) phrases: &'static [&'static str],
}

/// Openings and endings that add no keyword, so texts vary.
pub(super) const OPENINGS: &[&str] = &["", "", "", "你好，", "您好，", "喂，你好，"];
pub(super) const ENDINGS: &[&str] = &["", "，麻烦尽快处理", "，希望有关部门管一管", "，谢谢", "。"];

#[rustfmt::skip]
pub(super) const KINDS: &[Kind] = &[
    Kind { code: "heating", weight: 150, phrases: &["家里暖气片一直不热，屋里才十五度，老人孩子受不了", "供暖都开始好几天了，我家暖气还是冰凉的，物业让找热力公司", "楼里暖气管爆裂了，水流了一地，家里正在跑水"] },
    Kind { code: "env.noise", weight: 95, phrases: &["楼上邻居每天晚上十二点还在装修，电钻声音太吵了，根本睡不着觉", "小区广场舞音响声音太大，每天晚上吵到九点多", "附近工地夜间施工，凌晨两点还在施工扰民"] },
    Kind { code: "env.sanitation", weight: 75, phrases: &["小区门口的垃圾好几天没人清理了，味道很大", "胡同里的公厕太脏了，好久没人打扫", "楼下垃圾桶满了也没人清运，老鼠到处跑"] },
    Kind { code: "transport.parking", weight: 85, phrases: &["有辆车堵在单元门口一上午了，打电话也不接，麻烦帮忙联系挪车", "小区车位太少，晚上下班回来根本没地方停车", "路边有辆僵尸车长期停放，好几年没动过了"] },
    Kind { code: "housing.property", weight: 70, phrases: &["物业不作为，楼道灯坏了半个月也不修", "物业公司乱收费，还不公示公共收益", "小区没有物业，楼道杂物堆满了也没人管"] },
    Kind { code: "market.consumer", weight: 50, phrases: &["在健身房办的预付卡，店铺突然关门跑路了，钱退不回来", "网购的电器有质量问题，商家不给退货", "理发店办卡时说好的优惠，现在不认账了"] },
    Kind { code: "housing.elevator", weight: 45, phrases: &["我们楼的电梯又坏了，一个星期了也没人修，老人上下楼很困难", "电梯突然停了，有人被困在里面，快来人", "老楼想加装电梯，不知道需要哪些手续"] },
    Kind { code: "utilities.water", weight: 45, phrases: &["家里突然停水了，也没有提前通知，什么时候能恢复供水", "自来水发黄，有异味，不敢喝", "路口的自来水管爆了，水流了一大片"] },
    Kind { code: "housing.repair", weight: 40, phrases: &["楼上卫生间漏水，我家天花板都泡了", "顶层房顶漏雨，墙皮一块一块往下掉", "公房的下水管堵了，报修好几次没人来"] },
    Kind { code: "utilities.power", weight: 35, phrases: &["我们小区从早上开始停电，到现在还没来电", "家里电压不稳，灯一直忽明忽暗的", "楼下电线杆上的电线着火了，一直在冒烟"] },
    Kind { code: "housing.old_renovation", weight: 35, phrases: &["小区什么时候开始老旧小区改造，说了两年了还没有动静", "老旧小区改造的脚手架搭在窗户外面，半个月没人施工", "我们楼能不能纳入改造计划，外墙保温太差了"] },
    Kind { code: "labor.wages", weight: 35, phrases: &["公司拖欠我们三个月工资了，老板一直躲着不见人，想讨薪", "干了半年活，老板一分钱工资都没发", "公司说效益不好，已经两个月没发工资了"] },
    Kind { code: "education", weight: 35, phrases: &["孩子明年上小学，想咨询一下我们这个片区划片到哪个学校", "学校课后服务收费不合理，家长意见很大", "幼儿园入园报名系统一直进不去"] },
    Kind { code: "health.medical", weight: 35, phrases: &["社区医院挂不上号，老人看病很不方便", "医院检查费收得太贵了，收费也不透明", "医院急诊等了三个小时都没有医生来看"] },
    Kind { code: "env.pollution", weight: 30, phrases: &["楼下饭店的油烟直接排到我家窗户上，窗户都不敢开，太呛人了", "附近小作坊喷漆，油漆味很刺鼻", "附近工厂晚上偷偷排废气，味道很难闻"] },
    Kind { code: "utilities.gas", weight: 25, phrases: &["楼道里一股很重的煤气味，怀疑燃气泄漏了，请马上派人来处理", "燃气卡充值了但是燃气表不来气", "燃气公司入户安检的人一直约不上"] },
    Kind { code: "other", weight: 25, phrases: &["表扬一下我们社区的工作人员，感谢他们", "谢谢你们上次帮忙，问题已经解决了", "就是心里烦，想找人说说话"] },
    Kind { code: "construction.illegal", weight: 20, phrases: &["小区绿地被人圈起来私搭乱建了一个棚子", "一楼住户私自扩建阳光房，占了公共区域", "楼顶有人私自加盖了一层房子"] },
    Kind { code: "elderly.care", weight: 20, phrases: &["社区养老驿站的老年餐太贵了，而且经常吃不上", "独居老人的高龄津贴一直没发下来", "想给老人申请居家养老服务，不知道找谁"] },
    Kind { code: "transport.public_transit", weight: 20, phrases: &["附近公交站撤了以后，老人去医院要多走两公里，希望恢复这个站", "早高峰公交发车间隔太长，等车要半个小时", "地铁站出口一直封着不开"] },
    Kind { code: "parks.greening", weight: 15, phrases: &["小区里的树长得太高挡住了窗户，想申请修剪", "公园里的健身器材坏了没人修", "路边的绿化带好久没人浇水，草都枯了"] },
    Kind { code: "transport.ev_charging", weight: 15, phrases: &["小区里新装的充电桩坏了好几个，充不上电", "想在自己车位安装充电桩，物业不让装", "公共充电桩车位总被燃油车占着"] },
    Kind { code: "housing.property_certificate", weight: 8, phrases: &["买的房子交房五年了还办不下来房产证", "开发商一直不给办不动产证", "想问问房本什么时候能办下来"] },
    Kind { code: "enterprise.policy", weight: 6, phrases: &["我们小微企业想咨询一下今年的减税降费政策", "公司申请的稳岗补贴一直没有到账", "公司申请的扶持资金到现在还没批下来"] },
    Kind { code: "enterprise.tech_resources", weight: 3, phrases: &["我们公司想找高校合作做技术研发，有没有对接渠道", "想申请高新技术企业认定，需要什么材料", "科技型中小企业怎么对接实验室资源"] },
    Kind { code: "immigration.visa", weight: 3, phrases: &["外国朋友的签证快过期了，怎么办理签证延期", "外籍家属的居留许可怎么续签", "想问一下过境免签可以停留几天"] },
    Kind { code: "immigration.work_permit", weight: 2, phrases: &["公司想聘用一个外籍员工，外国人工作许可怎么办", "外国人工作许可证到期了怎么延期", "外籍员工换了单位，工作许可要重新办吗"] },
    Kind { code: "travel.lost_property", weight: 2, phrases: &["昨天在首都机场航站楼把行李丢了", "钱包忘在出租车上了，想找回来", "在大兴机场安检的时候把手机落在那了"] },
];

/// A foreign-language text and its weight among foreign tickets.
pub(super) struct Foreign {
    pub(super) weight: u32,
    pub(super) text: &'static str,
}

#[rustfmt::skip]
pub(super) const FOREIGN: &[Foreign] = &[
    Foreign { weight: 12, text: "My residence permit expires next month, where do I apply for an extension?" },
    Foreign { weight: 12, text: "Can I use the 240-hour visa-free transit if I fly in from Seoul?" },
    Foreign { weight: 10, text: "I lost my backpack at Daxing airport yesterday, who can I contact?" },
    Foreign { weight: 10, text: "I left my wallet in Terminal 3 of the Capital airport, is there a lost and found?" },
    Foreign { weight: 8, text: "The construction site next to my apartment is making noise all night, please do something." },
    Foreign { weight: 8, text: "The taxi driver refused to use the meter and overcharged me, I want to complain." },
    Foreign { weight: 3, text: "Je voudrais prolonger mon visa, à qui dois-je m'adresser ?" },
    Foreign { weight: 3, text: "J'ai perdu ma valise à l'aéroport, où sont les objets trouvés ?" },
    Foreign { weight: 3, text: "Ich möchte meine Aufenthaltserlaubnis verlängern, wohin muss ich mich wenden?" },
    Foreign { weight: 3, text: "Ich habe meinen Koffer am Flughafen verloren. Gibt es hier ein Fundbüro?" },
    Foreign { weight: 3, text: "Моя виза скоро истекает, где можно продлить визу и вид на жительство?" },
    Foreign { weight: 3, text: "Я потерял багаж в аэропорту, где находится бюро находок?" },
    Foreign { weight: 3, text: "Mi visado vence pronto, ¿dónde puedo pedir una prórroga del permiso de residencia?" },
    Foreign { weight: 2, text: "Perdí mi maleta en el aeropuerto, ¿dónde están los objetos perdidos?" },
    Foreign { weight: 3, text: "ビザの延長はどこで申請できますか。在留期間がもうすぐ切れます。" },
    Foreign { weight: 2, text: "空港で荷物をなくしました。どこに連絡すればいいですか。" },
    Foreign { weight: 3, text: "비자 연장은 어디에서 신청하나요? 체류 기간이 곧 끝납니다." },
    Foreign { weight: 2, text: "공항에서 가방을 잃어버렸어요. 어디에 연락해야 하나요?" },
    Foreign { weight: 2, text: "تأشيرتي ستنتهي قريبا، أين يمكنني تجديد تصريح إقامة؟" },
    Foreign { weight: 1, text: "فقدت حقيبتي في المطار، أين مكتب المفقودات؟" },
    Foreign { weight: 1, text: "Gostaria de saber onde posso renovar o meu visto de residência." },
    Foreign { weight: 1, text: "Perdi a minha mala no aeroporto, onde fica o setor de achados e perdidos?" },
    Foreign { weight: 1, text: "Vorrei rinnovare il mio permesso di soggiorno, a chi devo rivolgermi?" },
];
