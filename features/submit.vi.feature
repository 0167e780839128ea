# language: vi
@SUBMIT
Tính năng: Nộp hồ sơ trực tuyến tại mọi xã, phường, đặc khu
  Hồ sơ nộp trên Cổng Dịch vụ công quốc gia cho từng xã phải được chuyển về hệ thống của tỉnh
  và được tỉnh tiếp nhận với mã hồ sơ của tỉnh.

  @SUBMIT-1
  Kịch bản: Hồ sơ trực tuyến của mọi xã được chọn về đến tỉnh
    Cho mọi xã được chọn của tỉnh đã thực hiện hành trình của công dân
    Thì Cổng đã chuyển hồ sơ của từng xã và tỉnh đã tiếp nhận với mã hồ sơ của tỉnh
