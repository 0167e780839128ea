# language: vi
@PAY
Tính năng: Thanh toán trực tuyến vào tài khoản riêng của từng xã
  Phí, lệ phí được nộp trực tuyến vào tài khoản của xã giải quyết hồ sơ; hệ thống của tỉnh kiểm tra
  mọi thông báo kết quả thanh toán, chỉ ghi nhận một lần và đối soát được.

  @PAY-1
  Kịch bản: Phí của hồ sơ mọi xã được chọn được nộp vào tài khoản của chính xã đó
    Cho mọi xã được chọn của tỉnh đã thực hiện hành trình của công dân
    Thì phí của từng xã đã được nộp vào tài khoản của xã và tỉnh ghi nhận đã thanh toán

  @PAY-2 @negative
  Kịch bản: Thông báo thanh toán giả mạo hoặc lặp lại không làm thay đổi hồ sơ
    Cho hệ thống của tỉnh đã khởi động và kết nối với các nền tảng quốc gia
    Khi một thông báo giả mạo rồi một thông báo thật bị gửi lặp lại tới hệ thống của tỉnh
    Thì thông báo giả mạo bị từ chối và thông báo lặp lại được xác nhận mà không làm thay đổi hồ sơ
