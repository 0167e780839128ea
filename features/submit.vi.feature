# language: vi
@SUBMIT
Tính năng: Nộp hồ sơ trực tuyến tại mọi xã, phường, đặc khu
  Hồ sơ nộp trên Cổng Dịch vụ công quốc gia cho từng xã phải được chuyển về hệ thống của tỉnh
  và được tỉnh tiếp nhận với mã hồ sơ của tỉnh.

  @SUBMIT-1
  Kịch bản: Hồ sơ trực tuyến của mọi xã được chọn về đến tỉnh
    Cho mọi xã được chọn của tỉnh đã thực hiện hành trình của công dân
    Thì Cổng đã chuyển hồ sơ của từng xã và tỉnh đã tiếp nhận với mã hồ sơ của tỉnh

  @SUBMIT-2 @negative
  Kịch bản: Hồ sơ chuyển không chữ ký, giả mạo, bị sửa, phát lại, gửi lặp hoặc của tỉnh khác không làm thay đổi gì
    Cho hệ thống của tỉnh đã khởi động và kết nối với các nền tảng quốc gia
    Khi các hồ sơ chuyển không chữ ký, ký bằng khóa khác, bị sửa, bị phát lại, bị gửi hai lần hoặc gửi cho tỉnh khác đến điểm tiếp nhận của tỉnh
    Thì tỉnh từ chối mọi hồ sơ chuyển sai, giữ đúng một hồ sơ cho mỗi hồ sơ chuyển thật, và không có gì thay đổi ở tỉnh hay trên Cổng
