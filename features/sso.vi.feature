# language: vi
@SSO
Tính năng: Đăng nhập một lần qua Cổng Dịch vụ công quốc gia
  Người dân và cán bộ của mọi xã đăng nhập hệ thống của tỉnh bằng tài khoản quốc gia. Là bên nhận
  định danh, hệ thống từ chối mọi mã định danh giả mạo, hết hạn, của bên khác hay sai nonce, thông
  tin người dùng của người khác với người mà mã định danh nêu, và mọi phản hồi ủy quyền mà nó không
  yêu cầu, kể cả state do đăng nhập ở tỉnh khác cấp; phiên mở ở tỉnh này không phải là phiên ở tỉnh
  khác. Cổng không từ chối yêu cầu nào của nó. Hai lượt đăng nhập đang dở cùng lúc đều thành công,
  dù lượt nào kết thúc trước; khi tài liệu khám phá (discovery) của Cổng tạm không phục vụ, lượt
  đăng nhập thất bại mà hệ thống không sập, và lượt tiếp theo thành công.

  @SSO-1
  Kịch bản: Một người dân và một cán bộ của mọi xã được chọn đăng nhập qua Cổng quốc gia
    Cho mọi xã được chọn của tỉnh đã thực hiện hành trình của công dân
    Thì một người dân và một cán bộ của từng xã đã đăng nhập bằng định danh quốc gia của mình

  @SSO-2 @negative
  Kịch bản: Mã định danh bị làm hỏng bị từ chối
    Cho hệ thống của tỉnh đã khởi động và kết nối với các nền tảng quốc gia
    Khi Cổng quốc gia cấp mã định danh bị hỏng theo từng cách đã biết
    Thì hệ thống của tỉnh từ chối tất cả

  @SSO-3 @negative
  Kịch bản: Phản hồi ủy quyền giả mạo, phát lại hoặc của bên khác bị từ chối
    Cho hệ thống của tỉnh đã khởi động và kết nối với các nền tảng quốc gia
    Khi các phản hồi ủy quyền mà hệ thống của tỉnh không yêu cầu hoặc không được tin được gửi tới địa chỉ chuyển hướng của nó
    Thì hệ thống của tỉnh từ chối tất cả

  @SSO-4
  Kịch bản: Cổng không từ chối yêu cầu đăng nhập một lần nào của tỉnh
    Cho mọi xã được chọn của tỉnh đã thực hiện hành trình của công dân
    Thì Cổng không từ chối yêu cầu nào hệ thống của tỉnh gửi tới các điểm đăng nhập một lần
