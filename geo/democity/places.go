package democity

// The city's fixed facts: its outline, its river, and its 23 towns and
// streets with approximate real centres and populations. Everything else is
// drawn from these with the seed.

// Frame origin: the city centre (玉海/安阳), 27.78°N 120.65°E.
const originLon, originLat = 120.65, 27.78

var city = newFrame(originLon, originLat)

// mainland is the outline of the mainland territory (lon, lat), counter-
// clockwise from the west: mountains to the west (bordering Wencheng), Ouhai
// and Longwan to the north-east (toward Wenzhou), the East China Sea coast to
// the east with the mouth of the Feiyun river, Pingyang to the south. It
// encloses about 1,270 km².
var mainland = [][2]float64{
	{120.254, 27.800}, {120.278, 27.860}, {120.324, 27.898}, {120.391, 27.929},
	{120.464, 27.941}, {120.520, 27.926}, {120.572, 27.934}, {120.624, 27.907},
	{120.665, 27.900}, {120.706, 27.895}, {120.740, 27.875}, {120.751, 27.844},
	{120.762, 27.813}, {120.772, 27.786}, {120.768, 27.759}, {120.753, 27.733},
	{120.735, 27.710}, {120.706, 27.694}, {120.665, 27.699}, {120.624, 27.689},
	{120.582, 27.664}, {120.531, 27.646}, {120.469, 27.646}, {120.417, 27.660},
	{120.366, 27.679}, {120.314, 27.689}, {120.276, 27.718}, {120.254, 27.756},
}

// island is 北麂 (the Beiji islands), about 55 km out to sea: one small
// polygon of its own, a town (乡) with its own villages and grid cells and no
// road link to the mainland.
var island = [][2]float64{
	{121.150, 27.611}, {121.172, 27.606}, {121.191, 27.613}, {121.196, 27.626},
	{121.184, 27.636}, {121.163, 27.634}, {121.149, 27.624},
}

// river is the centreline of the Feiyun river (飞云江), west to east, passing
// south of the old town into the sea.
var river = [][2]float64{
	{120.240, 27.736}, {120.300, 27.741}, {120.350, 27.748}, {120.400, 27.744},
	{120.450, 27.752}, {120.500, 27.756}, {120.550, 27.757}, {120.600, 27.760},
	{120.640, 27.765}, {120.680, 27.767}, {120.720, 27.768}, {120.790, 27.768},
}

// riverWidth is the width of the Feiyun at x metres east of the origin: a
// mountain river of about 150 m widening to a 1.4 km estuary at the coast.
func riverWidth(x float64) float64 {
	const west, east = -10000.0, 11000.0 // 120.55°E and the coast
	switch {
	case x <= west:
		return 150
	case x >= east:
		return 1400
	}
	return 150 + (1400-150)*(x-west)/(east-west)
}

// townSpec is one town or street (镇街) as the demo knows it.
type townSpec struct {
	name     string
	code     string  // 9-digit township code
	lon, lat float64 // centre
	pop      int     // residents (thousands), scaled to 1.5 M in total
	area     float64 // km², the target the grid growth aims at
	street   bool    // an urban street (街道) rather than a town (镇) or township (乡)
	industry float64 // weight of factories and enterprises relative to population
	mountain bool    // forested hills: forest fire teams, sparse settlement
	island   bool
}

// towns are the 12 streets, 9 towns and 2 townships of the city, with
// centres and populations close to the real ones. 塘下 (north-east, toward
// Wenzhou) is the largest and the home of the auto-parts workshops.
var towns = []townSpec{
	{"安阳街道", "330381001", 120.640, 27.786, 150, 19, true, 0.6, false, false},
	{"玉海街道", "330381002", 120.655, 27.778, 80, 8, true, 0.3, false, false},
	{"锦湖街道", "330381003", 120.624, 27.800, 110, 18, true, 0.8, false, false},
	{"东山街道", "330381004", 120.681, 27.785, 70, 25, true, 1.2, false, false},
	{"上望街道", "330381005", 120.716, 27.803, 80, 48, true, 1.4, false, false},
	{"莘塍街道", "330381006", 120.690, 27.822, 100, 38, true, 1.5, false, false},
	{"汀田街道", "330381007", 120.655, 27.838, 75, 26, true, 1.3, false, false},
	{"飞云街道", "330381008", 120.657, 27.750, 70, 38, true, 1.0, false, false},
	{"仙降街道", "330381009", 120.603, 27.744, 70, 38, true, 1.3, false, false},
	{"南滨街道", "330381010", 120.708, 27.733, 60, 46, true, 1.1, false, false},
	{"云周街道", "330381011", 120.588, 27.778, 40, 38, true, 0.9, false, false},
	{"潘岱街道", "330381012", 120.600, 27.813, 40, 38, true, 0.8, false, false},
	{"塘下镇", "330381101", 120.690, 27.862, 300, 95, false, 1.8, false, false},
	{"马屿镇", "330381102", 120.530, 27.726, 80, 95, false, 1.0, false, false},
	{"陶山镇", "330381103", 120.520, 27.792, 60, 120, false, 0.8, true, false},
	{"湖岭镇", "330381104", 120.440, 27.852, 35, 155, false, 0.5, true, false},
	{"高楼镇", "330381105", 120.395, 27.715, 25, 160, false, 0.3, true, false},
	{"曹村镇", "330381106", 120.470, 27.688, 25, 58, false, 0.4, true, false},
	{"桐浦镇", "330381107", 120.565, 27.862, 20, 40, false, 0.6, true, false},
	{"林川镇", "330381108", 120.385, 27.890, 15, 85, false, 0.3, true, false},
	{"平阳坑镇", "330381109", 120.330, 27.752, 15, 65, false, 0.3, true, false},
	{"芳庄乡", "330381201", 120.292, 27.818, 8, 55, false, 0.2, true, false},
	{"北麂乡", "330381202", 121.172, 27.621, 4, 4, false, 0.1, false, true},
}

// totalPopulation is the city's resident population at every scale.
const totalPopulation = 1_500_000

// Name pools. Village and community names are drawn from two-character
// combinations typical of southern Zhejiang place names.
var (
	placeFirst  = []rune("东西南北上下前后新老大小高金石沙林桥塘湖山岙垟埭浦岭田溪水坑岩陈林潘黄周叶鲍韩曹仙凤龙云梅桃竹松柏河港海江汇永安宁长兴瑞华荣")
	placeSecond = []rune("头尾垟岙桥山湾田湖塘埠浦岭坑口洋里底岸社庄宅堡园畈阳村前后门岩溪湖港")
	urbanFirst  = []rune("万松隆虹锦瑞安玉东西南北新华兴盛和平文明阳光滨江湖创龙凤富康泰丰祥")
	urbanSecond = []rune("松山桥湖阳华兴城苑园府湾景瑞祥和安泰丰源庭")
	surnames    = []rune("陈林黄张王李周吴郑潘叶胡戴金蔡余孙池许朱谢徐夏项郭卢钱薛董")
	givenChars  = []rune("建国华明伟杰海军平志强国成荣立新文光红晓丽芳燕敏静秀英勇斌龙飞")
	firmWords   = []string{"华盛", "瑞丰", "东方", "宏达", "新星", "金利", "永安", "兴旺", "恒通", "正泰",
		"博远", "鑫源", "宏盛", "昌达", "锦程", "协力", "立信", "长城", "天成", "富源", "海星", "万隆"}
	roadWords = []string{"万松", "隆山", "虹桥", "安阳", "罗阳", "瑞祥", "锦湖", "解放", "西山", "新华",
		"瑞湖", "阁巷", "德泉", "人民", "江南", "滨江", "外滩", "莘塍", "塘下", "汀田", "飞云", "仙降",
		"建设", "工业", "创业", "文化", "学前", "仓前", "沿江", "凤山", "集云", "安福", "广场", "站前"}
	boulevards = []string{"瑞安大道", "罗阳大道", "安阳路", "万松路", "虹桥路", "沿江路", "外滩大道",
		"瑞湖路", "隆山路", "西山路", "塘下大道", "德泉路", "莘塍大道", "飞云江大道", "104国道", "滨海大道"}
)
