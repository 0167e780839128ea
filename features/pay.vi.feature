# language: vi
@PAY
Tính năng: Thanh toán trực tuyến vào tài khoản riêng của từng xã
  Phí, lệ phí được nộp trực tuyến vào tài khoản của xã giải quyết hồ sơ; hệ thống của tỉnh kiểm tra
  mọi thông báo kết quả thanh toán, chỉ ghi nhận một lần và đối soát được.

  @PAY-1
  Kịch bản: Phí của hồ sơ mọi xã được chọn được nộp vào tài khoản của chính xã đó
    Cho mọi xã được chọn của tỉnh đã thực hiện hành trình của công dân
    Thì phí của từng xã được yêu cầu đúng một lần, được nộp vào tài khoản của xã và tỉnh ghi nhận đã thanh toán

  @PAY-2 @negative
  Kịch bản: Thông báo thanh toán giả mạo, sai định dạng hoặc lặp lại không làm thay đổi hồ sơ
    Cho hệ thống của tỉnh đã khởi động và kết nối với các nền tảng quốc gia
    Khi một thông báo giả mạo, các thông báo sai định dạng, rồi một thông báo thật bị gửi lặp lại tới hệ thống của tỉnh
    Thì thông báo giả mạo và sai định dạng bị từ chối, thông báo lặp lại được xác nhận mà không làm thay đổi hồ sơ

  @PAY-3 @negative
  Kịch bản: Thông báo được ký đúng nhưng không khớp với khoản phí đang chờ không bao giờ ghi nhận đã nộp
    Cho hệ thống của tỉnh đã khởi động và kết nối với các nền tảng quốc gia
    Khi các thông báo được ký như nền tảng thanh toán ký nhưng sai số tiền, sai mã tham chiếu, của đối tác hay tỉnh khác, hoặc báo thất bại, được gửi tới hệ thống của tỉnh
    Thì không thông báo nào ghi nhận khoản phí đã nộp và không làm thay đổi gì, ở phía tỉnh cũng như trên Cổng

  @PAY-4 @negative
  Kịch bản: Mọi kết quả của các ngân hàng thử nghiệm trên nền tảng thanh toán đều được đối soát
    Cho hệ thống của tỉnh đã khởi động và kết nối với các nền tảng quốc gia
    Khi phí được nộp qua từng ngân hàng thử nghiệm của nền tảng thanh toán và đồng hồ của nền tảng vượt qua mọi thời hạn
    Thì hệ thống của tỉnh ghi nhận từng khoản thanh toán đúng như kết quả đối soát của nền tảng và chỉ ghi nhận thành công một lần

  @PAY-5
  Kịch bản: Nền tảng thanh toán không từ chối yêu cầu nào của hệ thống của tỉnh
    Cho hệ thống của tỉnh đã khởi động và kết nối với các nền tảng quốc gia
    Thì không yêu cầu nào của hệ thống của tỉnh gửi tới nền tảng thanh toán bị từ chối trong suốt lượt chạy
