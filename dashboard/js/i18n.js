// Vietnamese by default, English on request; the choice is remembered in localStorage.

const STORAGE_KEY = "ioc.lang";

const TEXT = {
  vi: {
    "app.title": "Trung tâm Điều hành",
    "login.title": "Đăng nhập hệ thống",
    "login.username": "Tên đăng nhập",
    "login.password": "Mật khẩu",
    "login.submit": "Đăng nhập",
    "login.failed": "Sai tên đăng nhập hoặc mật khẩu",
    "login.error": "Không kết nối được máy chủ",
    "logout": "Đăng xuất",
    "lang.switch": "English",
    "conn.connecting": "Đang kết nối",
    "conn.live": "Trực tiếp",
    "conn.reconnecting": "Mất kết nối — thử lại sau {s} giây",
    "conn.offline": "Mất kết nối",
    "panel.cameras": "Camera",
    "panel.alerts": "Cảnh báo",
    "panel.map": "Bản đồ",
    "panel.kpi": "Chỉ số vận hành",
    "panel.health": "Tình trạng camera",
    "feed.empty": "Chưa có cảnh báo",
    "feed.count": "{n} đang mở",
    "kpi.none": "Chưa kết nối nguồn KPI",
    "panel.flows": "Lưu lượng giao thông",
    "flows.none": "Chưa có số liệu lưu lượng",
    "flows.per": "{s} giây",
    "flows.partial": "chưa đủ khoảng",
    "flows.zero": "không có lượt qua",
    "kpi.demo": "DỮ LIỆU MẪU",
    "kpi.indicators": "Thực hiện / chỉ tiêu, xu hướng theo kỳ",
    "kpi.agencies": "Tỷ lệ đúng hạn theo đơn vị (tháng)",
    "kpi.overdue": "Hồ sơ quá hạn",
    "kpi.overdue_hours": "{hours} giờ làm việc",
    "kpi.report_categories": "Phản ánh theo lĩnh vực (tháng)",
    "kpi.backlog_overdue": "{backlog} đang xử lý · {overdue} quá hạn",
    "kpisource.hotline": "Đường dây nóng",
    "kpisource.indicators": "Chỉ tiêu kinh tế - xã hội",
    "unit.h": "giờ",
    "map.none": "Chưa có camera nào có toạ độ",
    "map.unplaced": "Không có toạ độ: {names}",
    "tile.nosignal": "Không có hình",
    "banner.critical": "CẢNH BÁO KHẨN",
    "banner.open": "Xem",
    "banner.dismiss": "Ẩn",
    "detail.title": "Chi tiết cảnh báo",
    "detail.history": "Lịch sử",
    "detail.nohistory": "Chưa có lịch sử",
    "detail.close": "Đóng",
    "detail.nosnapshot": "Không có ảnh chụp",
    "action.ack": "Xác nhận",
    "action.assign": "Giao việc",
    "action.resolve": "Đã xử lý",
    "action.assignee": "Người nhận việc",
    "action.note": "Ghi chú xử lý",
    "action.failed": "Thao tác thất bại: {msg}",
    "done.ack": "Đã xác nhận bởi {user} lúc {at}",
    "done.assign": "Đã giao cho {user}",
    "done.resolve": "Đã xử lý bởi {user} lúc {at}",
    "field.camera": "Camera",
    "field.rule": "Quy tắc",
    "field.rule_type": "Loại",
    "field.severity": "Mức độ",
    "field.category": "Lĩnh vực",
    "field.state": "Diễn biến",
    "field.status": "Trạng thái xử lý",
    "field.started_at": "Bắt đầu",
    "field.at": "Thời điểm",
    "field.updated_at": "Cập nhật",
    "field.ended_at": "Kết thúc",
    "field.object_class": "Đối tượng",
    "field.confidence": "Độ tin cậy",
    "field.track_id": "Mã theo vết",
    "field.zone_id": "Vùng",
    "field.line_id": "Vạch",
    "field.direction": "Hướng",
    "field.value": "Giá trị",
    "field.id": "Mã cảnh báo",
    "field.seq": "Thứ tự",
    "role.admin": "Quản trị",
    "role.operator": "Điều hành viên",
    "role.police": "Công an",
    "role.traffic": "Giao thông",
    "admin.users": "Người dùng",
    "admin.docs": "Tài liệu API",
    "admin.metrics": "Số liệu hệ thống",
    "admin.username": "Tên đăng nhập",
    "admin.role": "Vai trò",
    "sound.on": "Âm báo: bật",
    "sound.off": "Âm báo: tắt",
    "ago.s": "{n} giây trước",
    "ago.m": "{n} phút trước",
    "ago.h": "{n} giờ trước",
    "health.age": "khung hình cách đây {n} giây",
    "health.summary": "{n}/{total} trực tuyến",
    "health.reconnects": "{n} lần kết nối lại",
    "severity.critical": "Khẩn cấp",
    "severity.warning": "Chú ý",
    "severity.info": "Thông tin",
    "status.new": "Mới",
    "status.acknowledged": "Đã xác nhận",
    "status.resolved": "Đã xử lý",
    "state.start": "Bắt đầu",
    "state.update": "Đang diễn ra",
    "state.end": "Đã kết thúc",
    "state.event": "Sự kiện",
    "camstate.connecting": "Đang kết nối",
    "camstate.online": "Trực tuyến",
    "camstate.stalled": "Đứng hình",
    "camstate.offline": "Mất kết nối",
    "camstate.error": "Lỗi",
    "camstate.unknown": "Chưa rõ",
    "reason.starting": "đang khởi động",
    "reason.receiving": "đang nhận khung hình",
    "reason.reconnecting": "đang kết nối lại (lần {n})",
    "reason.nofirstframe": "chưa có khung hình đầu tiên sau {n} giây",
    "reason.noframe": "không có khung hình trong {n} giây",
    "reason.eof": "hết tệp video",
    "reason.ended": "luồng đã kết thúc",
    "reason.stopped": "đã dừng",
    "reason.disabled": "đã tắt trong cấu hình",
    "reason.refused": "bị từ chối kết nối",
    "reason.notfound": "không tìm thấy tệp",
    "reason.denied": "không có quyền truy cập",
    "reason.isdir": "là thư mục, cần một tệp video",
    "reason.unreadable": "không đọc được video (dữ liệu không hợp lệ)",
    "reason.invalid": "dữ liệu không hợp lệ (không trả lời kịp hoặc không phải luồng video)",
    "reason.nodata": "không có dữ liệu trong {n} giây (hết thời gian chờ)",
    "reason.noanswer": "không trả lời trong {n} giây (hết thời gian chờ)",
    "reason.novideo": "không có luồng video",
    "reason.nodecodable": "không có khung hình giải mã được",
    "reason.failed": "lỗi đầu đọc: {detail}",
    "reason.other": "{detail}",
    "category.traffic": "Giao thông",
    "category.security": "An ninh",
    "category.public_service": "Dịch vụ công",
    "category.field_report": "Phản ánh hiện trường",
    "kpisource.operations": "Vận hành",
    "kpisource.public_service": "Dịch vụ công",
    "kpisource.field_report": "Phản ánh hiện trường",
    "unit.min": "phút",
    "rule.intrusion": "Xâm nhập vùng cấm",
    "rule.dossier_overdue": "Hồ sơ quá hạn",
    "rule.dossier_near_due": "Hồ sơ sắp đến hạn",
    "rule.report_overdue": "Phản ánh quá hạn",
    "rule.on_time_rate_low": "Tỷ lệ đúng hạn thấp",
    "rule.line_crossing": "Vượt vạch",
    "rule.loitering": "Lảng vảng",
    "rule.zone_presence": "Có mặt trong vùng",
    "rule.overcount": "Vượt số lượng",
    "rule.speeding": "Quá tốc độ",
    "rule.wrong_way": "Đi ngược chiều",
    "rule.stopped_vehicle": "Dừng xe sai quy định",
    "rule.crowding": "Tụ tập đông người",
    "rule.congestion": "Ùn tắc giao thông",
    "rule.abandoned_object": "Đồ vật bị bỏ lại",
    "hist.message": "Sự kiện",
    "hist.ack": "Xác nhận",
    "hist.assign": "Giao việc",
    "hist.resolve": "Đã xử lý",
    "action.readonly": "Vai trò {role} chỉ được xem",
    "dir.in": "Vào",
    "dir.out": "Ra",
    "obj.person": "Người",
    "obj.bicycle": "Xe đạp",
    "obj.car": "Ô tô",
    "obj.motorcycle": "Xe máy",
    "obj.bus": "Xe buýt",
    "obj.truck": "Xe tải",
    "obj.backpack": "Ba lô",
    "obj.handbag": "Túi xách",
    "obj.suitcase": "Va li",
  },
  en: {
    "app.title": "Operations Centre",
    "login.title": "Sign in",
    "login.username": "Username",
    "login.password": "Password",
    "login.submit": "Sign in",
    "login.failed": "Wrong username or password",
    "login.error": "Cannot reach the server",
    "logout": "Sign out",
    "lang.switch": "Tiếng Việt",
    "conn.connecting": "Connecting",
    "conn.live": "Live",
    "conn.reconnecting": "Disconnected — retrying in {s} s",
    "conn.offline": "Disconnected",
    "panel.cameras": "Cameras",
    "panel.alerts": "Alerts",
    "panel.map": "Map",
    "panel.kpi": "Operations KPIs",
    "panel.health": "Camera health",
    "feed.empty": "No alerts yet",
    "feed.count": "{n} open",
    "kpi.none": "No KPI source connected",
    "panel.flows": "Traffic flow",
    "flows.none": "No flow counts yet",
    "flows.per": "{s} s",
    "flows.partial": "part of the interval",
    "flows.zero": "no crossings",
    "kpi.demo": "DEMO DATA",
    "kpi.indicators": "Actual / target, trend by period",
    "kpi.agencies": "On-time rate by agency (month)",
    "kpi.overdue": "Overdue dossiers",
    "kpi.overdue_hours": "{hours} working hours",
    "kpi.report_categories": "Field reports by category (month)",
    "kpi.backlog_overdue": "{backlog} open · {overdue} overdue",
    "kpisource.hotline": "Hotline",
    "kpisource.indicators": "Socio-economic indicators",
    "unit.h": "h",
    "map.none": "No camera has a location",
    "map.unplaced": "No location: {names}",
    "tile.nosignal": "No picture",
    "banner.critical": "CRITICAL ALERT",
    "banner.open": "Open",
    "banner.dismiss": "Hide",
    "detail.title": "Alert detail",
    "detail.history": "History",
    "detail.nohistory": "No history yet",
    "detail.close": "Close",
    "detail.nosnapshot": "No snapshot",
    "action.ack": "Acknowledge",
    "action.assign": "Assign",
    "action.resolve": "Resolve",
    "action.assignee": "Assignee",
    "action.note": "Resolution note",
    "action.failed": "Action failed: {msg}",
    "done.ack": "Acknowledged by {user} at {at}",
    "done.assign": "Assigned to {user}",
    "done.resolve": "Resolved by {user} at {at}",
    "field.camera": "Camera",
    "field.rule": "Rule",
    "field.rule_type": "Type",
    "field.severity": "Severity",
    "field.category": "Category",
    "field.state": "State",
    "field.status": "Status",
    "field.started_at": "Started",
    "field.at": "Time",
    "field.updated_at": "Updated",
    "field.ended_at": "Ended",
    "field.object_class": "Object",
    "field.confidence": "Confidence",
    "field.track_id": "Track id",
    "field.zone_id": "Zone",
    "field.line_id": "Line",
    "field.direction": "Direction",
    "field.value": "Value",
    "field.id": "Alert id",
    "field.seq": "Sequence",
    "role.admin": "Administrator",
    "role.operator": "Operator",
    "role.police": "Police",
    "role.traffic": "Traffic",
    "admin.users": "Users",
    "admin.docs": "API docs",
    "admin.metrics": "Metrics",
    "admin.username": "Username",
    "admin.role": "Role",
    "sound.on": "Sound: on",
    "sound.off": "Sound: off",
    "ago.s": "{n} s ago",
    "ago.m": "{n} min ago",
    "ago.h": "{n} h ago",
    "health.age": "last frame {n} s ago",
    "health.summary": "{n}/{total} online",
    "health.reconnects": "{n} reconnects",
    "severity.critical": "Critical",
    "severity.warning": "Warning",
    "severity.info": "Info",
    "status.new": "New",
    "status.acknowledged": "Acknowledged",
    "status.resolved": "Resolved",
    "state.start": "Started",
    "state.update": "Ongoing",
    "state.end": "Ended",
    "state.event": "Event",
    "camstate.connecting": "Connecting",
    "camstate.online": "Online",
    "camstate.stalled": "Stalled",
    "camstate.offline": "Offline",
    "camstate.error": "Error",
    "camstate.unknown": "Unknown",
    "reason.starting": "starting",
    "reason.receiving": "receiving frames",
    "reason.reconnecting": "reconnecting (attempt {n})",
    "reason.nofirstframe": "no first frame for {n} s",
    "reason.noframe": "no frame for {n} s",
    "reason.eof": "end of file",
    "reason.ended": "stream ended",
    "reason.stopped": "stopped",
    "reason.disabled": "disabled in the config",
    "reason.refused": "connection refused",
    "reason.notfound": "file not found",
    "reason.denied": "permission denied",
    "reason.isdir": "is a directory, expected a video file",
    "reason.unreadable": "not a readable video (invalid data)",
    "reason.invalid": "invalid data (no answer in time, or not a video stream)",
    "reason.nodata": "no data for {n} s (timed out)",
    "reason.noanswer": "no answer within {n} s (timed out)",
    "reason.novideo": "has no video stream",
    "reason.nodecodable": "contains no decodable video frames",
    "reason.failed": "reader failed: {detail}",
    "reason.other": "{detail}",
    "category.traffic": "Traffic",
    "category.security": "Security",
    "category.public_service": "Public service",
    "category.field_report": "Field report",
    "kpisource.operations": "Operations",
    "kpisource.public_service": "Public service",
    "kpisource.field_report": "Field report",
    "unit.min": "min",
    "rule.intrusion": "Intrusion",
    "rule.dossier_overdue": "Dossier overdue",
    "rule.dossier_near_due": "Dossier near due",
    "rule.report_overdue": "Field report overdue",
    "rule.on_time_rate_low": "On-time rate low",
    "rule.line_crossing": "Line crossing",
    "rule.loitering": "Loitering",
    "rule.zone_presence": "Zone presence",
    "rule.overcount": "Over capacity",
    "rule.speeding": "Speeding",
    "rule.wrong_way": "Wrong way",
    "rule.stopped_vehicle": "Stopped vehicle",
    "rule.crowding": "Crowding",
    "rule.congestion": "Congestion",
    "rule.abandoned_object": "Abandoned object",
    "hist.message": "Event",
    "hist.ack": "Acknowledged",
    "hist.assign": "Assigned",
    "hist.resolve": "Resolved",
    "action.readonly": "Role {role} is view-only",
    "dir.in": "In",
    "dir.out": "Out",
    "obj.person": "Person",
    "obj.bicycle": "Bicycle",
    "obj.car": "Car",
    "obj.motorcycle": "Motorcycle",
    "obj.bus": "Bus",
    "obj.truck": "Truck",
    "obj.backpack": "Backpack",
    "obj.handbag": "Handbag",
    "obj.suitcase": "Suitcase",
  },
};

const listeners = new Set();
let current = loadLang();

function loadLang() {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    return saved === "en" || saved === "vi" ? saved : "vi";
  } catch {
    return "vi";
  }
}

export function lang() {
  return current;
}

export function setLang(next) {
  if (next !== "vi" && next !== "en") throw new Error(`unknown language ${next}: expected vi or en`);
  current = next;
  try {
    localStorage.setItem(STORAGE_KEY, next);
  } catch {
    // private mode: the choice lasts for this page only
  }
  document.documentElement.lang = next;
  applyStatic(document);
  for (const fn of listeners) fn(next);
}

export function toggleLang() {
  setLang(current === "vi" ? "en" : "vi");
}

export function onLangChange(fn) {
  listeners.add(fn);
}

/** Translate `key`, filling {name} placeholders from `vars`. Unknown keys fall back to `fallback`. */
export function t(key, vars = {}, fallback = undefined) {
  const text = TEXT[current][key] ?? TEXT.en[key];
  if (text === undefined) return fallback ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ""));
}

/** A label for an enum-ish value: t("rule.loitering"); unknown values show as written. */
export function label(prefix, value) {
  if (value === null || value === undefined || value === "") return "—";
  return t(`${prefix}.${value}`, {}, String(value).replace(/_/g, " "));
}

/**
 * Why a camera is in its state, in the current language: the status's reason_code translated
 * with its reason_args (n: a number; detail: an error text shown as written). A code this wall
 * does not know shows the server's English reason.
 */
export function reasonText(status) {
  const code = status?.reason_code;
  if (!code) return status?.reason ?? "";
  const args = status.reason_args ?? {};
  return t(`reason.${code}`, { n: args.n ?? "", detail: args.detail ?? "" }, status.reason ?? code);
}

/** Text of a LocalizedText {vi, en} in the current language. */
export function localized(text) {
  if (!text) return "";
  return text[current] || text.vi || text.en || "";
}

/** Fill elements marked data-i18n (textContent) and data-i18n-placeholder / -title. */
export function applyStatic(root) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) {
    el.placeholder = t(el.dataset.i18nPlaceholder);
  }
  for (const el of root.querySelectorAll("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
}
